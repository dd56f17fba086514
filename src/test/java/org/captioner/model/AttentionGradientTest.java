package org.captioner.model;

import org.captioner.encoder.NativeSetup;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The hand-written backward pass of the attention decoder against central finite differences, in double precision. */
class AttentionGradientTest {
    @ParameterizedTest
    @EnumSource(AttentionMap.class)
    void analyticGradientsMatchFiniteDifferences(AttentionMap map) {
        NativeSetup.init();
        DecoderConfig c = new DecoderConfig(DecoderType.ATTENTION, 9, 5, 4, 4, 6, 0.0, 10, 4, 3, 5, map);
        AttentionDecoder d = AttentionDecoder.create(c, 1e-3, 0.7, 3, DataType.DOUBLE);
        Random r = new Random(5);
        CaptionBatch b = batch(r);
        check(d, b, null, r);
        // the policy-gradient loss of self-critical training: per-step weights, some negative (advantage below baseline)
        float[] w = {0.4f, 0.4f, 0.4f, -0.7f, -0.7f, 0f};
        check(d, b, w, r);
    }

    /**
     * Hard attention's training gradient with the draws held fixed: the log-likelihood through the chosen cells, the
     * REINFORCE surrogate (advantage held constant) and the entropy term; and with the expected context.
     */
    @org.junit.jupiter.api.Test
    void hardAttentionGradientsMatchFiniteDifferences() {
        NativeSetup.init();
        DecoderConfig c = new DecoderConfig(DecoderType.HARD_ATTENTION, 9, 5, 4, 4, 6, 0.0, 10, 4, 3, 5, AttentionMap.SOFTMAX);
        AttentionDecoder d = AttentionDecoder.create(c, 1e-3, 0.0, 3, DataType.DOUBLE);
        Random r = new Random(8);
        CaptionBatch b = batch(r);
        int[][] cells = {{2, 0}, {1, 3}, {3, 3}};                                   // [T][B]
        var sample = new AttentionDecoder.HardChoice(AttentionDecoder.HardMode.SAMPLE, cells, new double[] {-1.5, 0.8});
        assertTrue(Math.abs(d.pass(b, false, false, null, sample).hardTerms()) > 1e-6, "the REINFORCE and entropy terms take part");
        check(d, b, null, r, sample);
        check(d, b, null, r, new AttentionDecoder.HardChoice(AttentionDecoder.HardMode.EXPECTED, null, null));
    }

    /** Two captions of different lengths (the second padded for its last step) over random 4-cell x 3-channel grids. */
    static CaptionBatch batch(Random r) {
        INDArray in = Nd4j.create(new double[] {1, 4, 6, 1, 7, 0}, new long[] {2, 1, 3}, 'c');
        INDArray tgt = Nd4j.create(new double[] {4, 6, 2, 7, 2, 0}, new long[] {2, 1, 3}, 'c');
        INDArray mask = Nd4j.create(new double[] {1, 1, 1, 1, 1, 0}, new long[] {2, 3}, 'c');
        double[] g = new double[2 * 4 * 3];
        for (int i = 0; i < g.length; i++) g[i] = r.nextGaussian();
        return new CaptionBatch(in, tgt, mask, Nd4j.zeros(DataType.DOUBLE, 2, 5), Nd4j.create(g, new long[] {2, 4, 3}, 'c'), 5);
    }

    static void check(AttentionDecoder d, CaptionBatch b, float[] weights, Random r) {
        check(d, b, weights, r, null);
    }

    static void check(AttentionDecoder d, CaptionBatch b, float[] weights, Random r, AttentionDecoder.HardChoice hard) {
        Map<String, INDArray> grads = d.pass(b, false, true, weights, hard).gradients();
        double eps = 1e-6, worst = 0;
        int checked = 0;
        for (Map.Entry<String, INDArray> e : d.parameters().entrySet()) {
            INDArray p = e.getValue(), gp = grads.get(e.getKey());
            assertArrayEquals(p.shape(), gp.shape(), e.getKey());
            for (int k = 0; k < Math.min(6, p.length()); k++) {
                long idx = (long) (r.nextDouble() * p.length());
                double orig = p.getDouble(idx);
                p.putScalar(idx, orig + eps);
                double up = total(d.pass(b, false, false, weights, hard));
                p.putScalar(idx, orig - eps);
                double down = total(d.pass(b, false, false, weights, hard));
                p.putScalar(idx, orig);
                double numeric = (up - down) / (2 * eps), analytic = gp.getDouble(idx);
                double err = Math.abs(numeric - analytic) / Math.max(1e-8, Math.abs(numeric) + Math.abs(analytic));
                if (Math.abs(numeric) + Math.abs(analytic) > 1e-9) worst = Math.max(worst, err);
                assertTrue(err < 1e-5 || Math.abs(numeric - analytic) < 1e-9,
                        e.getKey() + "[" + idx + "]: numeric " + numeric + " analytic " + analytic);
                checked++;
            }
        }
        assertTrue(checked > 50);
        System.out.printf("attention gradient check (" + d.config().type().id() + ", " + d.config().attentionMap().id() + (weights == null ? "" : ", weighted") + (hard == null ? "" : ", " + hard.mode()) + "): %d entries, worst relative error %.2e%n", checked, worst);
    }

    static double total(AttentionDecoder.Pass p) {
        return p.crossEntropy() + p.regulariser() + p.hardTerms();
    }
}
