package org.captioner.model;

import org.captioner.encoder.NativeSetup;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The attention decoder's float training pass (its attention layer in fused Java loops, fast tanh, two threads) against
 * the same pass in double precision (ND4J ops), which {@code DecoderGradientTest} checks against finite differences:
 * same loss, same regulariser, same gradients up to float rounding.
 */
class AttentionDecoderFloatTest {
    @BeforeAll
    static void setup() {
        NativeSetup.init();
    }

    /** 6 captions: every loop on one thread; 3,600: above the kernel's threshold, every loop split over two threads. */
    @ParameterizedTest(name = "{0} captions, {1}")
    @CsvSource({"6, softmax", "3600, softmax", "6, sparsemax", "3600, sparsemax"})
    void floatPassMatchesDoubleReference(int n, String map) {
        DecoderConfig c = new DecoderConfig(DecoderType.ATTENTION, 23, 12, 8, 8, 10, 0.0, 10, 7, 12, 9, AttentionMap.parse(map));
        AttentionDecoder f = AttentionDecoder.create(c, 1e-3, 0.8, 11, DataType.FLOAT);
        AttentionDecoder d = AttentionDecoder.create(c, 1e-3, 0.8, 11, DataType.DOUBLE);
        for (Map.Entry<String, INDArray> e : f.parameters().entrySet()) {
            e.getValue().muli(3);                                     // larger weights: saturate some tanh/sigmoid
            d.parameters().get(e.getKey()).assign(e.getValue().castTo(DataType.DOUBLE));
        }
        int steps = 5;
        Random r = new Random(3);
        double[] in = new double[n * steps], tgt = new double[n * steps], mask = new double[n * steps];
        for (int i = 0; i < n; i++) {
            int len = 2 + r.nextInt(steps - 1);                     // ragged: some captions are padded
            for (int t = 0; t < steps; t++) {
                in[i * steps + t] = t < len ? 4 + r.nextInt(19) : 0;
                tgt[i * steps + t] = t < len ? 2 + r.nextInt(21) : 0;
                mask[i * steps + t] = t < len ? 1 : 0;
            }
        }
        double tokens = java.util.Arrays.stream(mask).sum();
        double[] grid = new double[n * 7 * 12];
        for (int i = 0; i < grid.length; i++) grid[i] = Math.abs(r.nextGaussian());
        CaptionBatch bd = batch(in, tgt, mask, grid, n, steps, DataType.DOUBLE, tokens);
        CaptionBatch bf = batch(in, tgt, mask, grid, n, steps, DataType.FLOAT, tokens);
        LayerDecoder.Pass pf = f.pass(bf, false, true, null), pd = d.pass(bd, false, true, null);
        assertEquals(pd.crossEntropy(), pf.crossEntropy(), 1e-5 * Math.abs(pd.crossEntropy()));
        assertEquals(pd.penalty(), pf.penalty(), 1e-5 * Math.max(1, Math.abs(pd.penalty())));
        for (String name : pd.gradients().keySet()) {
            INDArray gd = pd.gradients().get(name), gf = pf.gradients().get(name).castTo(DataType.DOUBLE);
            assertArrayEquals(gd.shape(), gf.shape(), name);
            double norm = gd.norm2Number().doubleValue(), diff = gd.sub(gf).norm2Number().doubleValue();
            assertTrue(norm > 0, name + " has a zero gradient: the check would prove nothing");
            assertTrue(diff <= 1e-4 * norm, name + ": |float - double| " + diff + " vs |double| " + norm);
        }
        // probabilities of the forward-only pass too
        INDArray qd = d.pass(bd, false, false, null).probabilities(), qf = f.pass(bf, false, false, null).probabilities();
        assertEquals(0, qd.sub(qf.castTo(DataType.DOUBLE)).amaxNumber().doubleValue(), 1e-5);
    }

    /** Hard attention's float path (chosen cells, REINFORCE and entropy terms) against the double reference. */
    @ParameterizedTest
    @ValueSource(strings = {"SAMPLE", "EXPECTED", "ARGMAX"})
    void hardAttentionFloatPassMatchesDoubleReference(String mode) {
        DecoderConfig c = new DecoderConfig(DecoderType.HARD_ATTENTION, 23, 12, 8, 8, 10, 0.0, 10, 7, 12, 9, AttentionMap.SOFTMAX);
        AttentionDecoder f = AttentionDecoder.create(c, 1e-3, 0.0, 11, DataType.FLOAT);
        AttentionDecoder d = AttentionDecoder.create(c, 1e-3, 0.0, 11, DataType.DOUBLE);
        for (Map.Entry<String, INDArray> e : f.parameters().entrySet()) d.parameters().get(e.getKey()).assign(e.getValue().castTo(DataType.DOUBLE));
        int n = 4, steps = 4;
        Random r = new Random(4);
        double[] in = new double[n * steps], tgt = new double[n * steps], mask = new double[n * steps];
        for (int i = 0; i < n * steps; i++) {
            in[i] = 4 + r.nextInt(19);
            tgt[i] = 2 + r.nextInt(21);
            mask[i] = i % steps < 3 || i < steps ? 1 : 0;
        }
        double[] grid = new double[n * 7 * 12];
        for (int i = 0; i < grid.length; i++) grid[i] = Math.abs(r.nextGaussian());
        double tokens = java.util.Arrays.stream(mask).sum();
        int[][] cells = new int[steps][n];
        for (int[] row : cells) for (int b = 0; b < n; b++) row[b] = r.nextInt(7);
        var choice = new HardAttention.Choice(HardAttention.Mode.valueOf(mode), mode.equals("SAMPLE") ? cells : null,
                new double[] {-2, 1, 0.5, 3});
        LayerDecoder.Pass pf = f.pass(batch(in, tgt, mask, grid, n, steps, DataType.FLOAT, tokens), false, true, null, choice);
        LayerDecoder.Pass pd = d.pass(batch(in, tgt, mask, grid, n, steps, DataType.DOUBLE, tokens), false, true, null, choice);
        assertEquals(pd.crossEntropy(), pf.crossEntropy(), 1e-5 * Math.abs(pd.crossEntropy()));
        assertEquals(pd.penalty(), pf.penalty(), 1e-5 * Math.max(1e-3, Math.abs(pd.penalty())));
        for (String name : pd.gradients().keySet()) {
            INDArray gd = pd.gradients().get(name), gf = pf.gradients().get(name).castTo(DataType.DOUBLE);
            double norm = gd.norm2Number().doubleValue(), diff = gd.sub(gf).norm2Number().doubleValue();
            assertTrue(diff <= 1e-4 * Math.max(norm, 1e-8), mode + " " + name + ": |float - double| " + diff + " vs |double| " + norm);
        }
    }

    private static CaptionBatch batch(double[] in, double[] tgt, double[] mask, double[] grid, int n, int steps, DataType dt, double tokens) {
        return new CaptionBatch(Nd4j.create(in, new long[] {n, 1, steps}, 'c').castTo(dt), Nd4j.create(tgt, new long[] {n, 1, steps}, 'c').castTo(dt),
                Nd4j.create(mask, new long[] {n, steps}, 'c').castTo(dt), Nd4j.zeros(dt, n, 12),
                Nd4j.create(grid, new long[] {n, 7, 12}, 'c').castTo(dt), (long) tokens);
    }
}
