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

/** Every decoder's backward pass (its layers composed) against central finite differences, in double precision. */
class DecoderGradientTest {
    /** rnn, lstm and gru, one layer and stacked (dropout off: the loss is then deterministic). */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"RNN, 1", "LSTM, 1", "GRU, 1", "RNN, 2", "LSTM, 2", "GRU, 2"})
    void recurrentDecoders(DecoderType type, int layers) {
        NativeSetup.init();
        DecoderConfig c = new DecoderConfig(type, 9, 5, 4, 3, 6, 0.0, 10, 0, 0, 0).withLayers(layers);
        RecurrentDecoder d = RecurrentDecoder.create(c, 1e-3, 3, DataType.DOUBLE);
        Random r = new Random(5);
        CaptionBatch b = batch(r);
        check(d, b, null, r, null);
        // self-critical training's loss: per-step weights, some negative; the padding step's weight is ignored
        check(d, b, new float[] {0.4f, 0.4f, 0.4f, -0.7f, -0.7f, 3f}, r, null);
    }

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

    /** The grid projected before attention (--context-projection): W_g's gradient through the context, scores and h_0. */
    @org.junit.jupiter.params.ParameterizedTest
    @EnumSource(AttentionMap.class)
    void projectedContext(AttentionMap map) {
        NativeSetup.init();
        DecoderConfig c = new DecoderConfig(DecoderType.ATTENTION, 9, 5, 4, 4, 6, 0.0, 10, 4, 3, 5, map).withContextProjection(4);
        AttentionDecoder d = AttentionDecoder.create(c, 1e-3, 0.7, 3, DataType.DOUBLE);
        d.parameters().get("b_g").addi(0.5);                                         // most ReLUs open
        Random r = new Random(6);
        check(d, batch(r), null, r);
        DecoderConfig hard = new DecoderConfig(DecoderType.HARD_ATTENTION, 9, 5, 4, 4, 6, 0.0, 10, 4, 3, 5, map).withContextProjection(4);
        AttentionDecoder dh = AttentionDecoder.create(hard, 1e-3, 0.0, 3, DataType.DOUBLE);
        dh.parameters().get("b_g").addi(0.5);
        check(dh, batch(r), null, r, new HardAttention.Choice(HardAttention.Mode.SAMPLE, new int[][] {{2, 0}, {1, 3}, {3, 3}}, new double[] {-1.5, 0.8}));
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
        var sample = new HardAttention.Choice(HardAttention.Mode.SAMPLE, cells, new double[] {-1.5, 0.8});
        assertTrue(Math.abs(d.pass(b, false, false, null, sample).penalty()) > 1e-6, "the REINFORCE and entropy terms take part");
        check(d, b, null, r, sample);
        check(d, b, null, r, new HardAttention.Choice(HardAttention.Mode.EXPECTED, null, null));
    }

    /** Two captions of different lengths (the second padded for its last step) over random 4-cell x 3-channel grids. */
    static CaptionBatch batch(Random r) {
        INDArray in = Nd4j.create(new double[] {1, 4, 6, 1, 7, 0}, new long[] {2, 1, 3}, 'c');
        INDArray tgt = Nd4j.create(new double[] {4, 6, 2, 7, 2, 0}, new long[] {2, 1, 3}, 'c');
        INDArray mask = Nd4j.create(new double[] {1, 1, 1, 1, 1, 0}, new long[] {2, 3}, 'c');
        double[] g = new double[2 * 4 * 3];
        for (int i = 0; i < g.length; i++) g[i] = r.nextGaussian();
        return new CaptionBatch(in, tgt, mask, Nd4j.randn(DataType.DOUBLE, 2, 5), Nd4j.create(g, new long[] {2, 4, 3}, 'c'), 5);
    }

    static void check(AttentionDecoder d, CaptionBatch b, float[] weights, Random r) {
        check(d, b, weights, r, null);
    }

    /** The gradient of the whole loss (cross-entropy and penalties); {@code hard} fixes hard attention's draws. */
    static void check(LayerDecoder d, CaptionBatch b, float[] weights, Random r, HardAttention.Choice hard) {
        java.util.function.Function<Boolean, LayerDecoder.Pass> pass = grads -> d instanceof AttentionDecoder a
                ? a.pass(b, false, grads, weights, hard) : d.pass(b, false, grads, weights);
        Map<String, INDArray> grads = pass.apply(true).gradients();
        int checked = org.captioner.layers.FiniteDifferences.check(d.parameters(), grads, () -> {
            LayerDecoder.Pass p = pass.apply(false);
            return p.crossEntropy() + p.penalty();
        }, 6, r, "E");
        assertTrue(checked > 50, "checked " + checked);
    }
}
