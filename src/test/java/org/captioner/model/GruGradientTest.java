package org.captioner.model;

import org.captioner.encoder.NativeSetup;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The hand-written backward pass of the gru decoder (one and stacked layers) against central finite differences. */
class GruGradientTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void analyticGradientsMatchFiniteDifferences(int layers) {
        NativeSetup.init();
        DecoderConfig c = new DecoderConfig(DecoderType.GRU, 9, 5, 4, 3, 6, 0.0, 10, 0, 0, 0).withLayers(layers);
        GruDecoder d = GruDecoder.create(c, 1e-3, 3, DataType.DOUBLE);
        CaptionBatch b = InjectedRnnGradientTest.batch();           // two captions, the second padded for its last step
        Random r = new Random(5);
        check(d, b, null, r);
        // self-critical training's loss: per-step weights, some negative; the padding step's weight is ignored
        check(d, b, new float[] {0.4f, 0.4f, 0.4f, -0.7f, -0.7f, 3f}, r);
    }

    static void check(GruDecoder d, CaptionBatch b, float[] weights, Random r) {
        Map<String, INDArray> grads = d.pass(b, false, true, weights).gradients();
        double eps = 1e-6;
        int checked = 0;
        for (Map.Entry<String, INDArray> e : d.parameters().entrySet()) {
            INDArray p = e.getValue(), gp = grads.get(e.getKey());
            assertArrayEquals(p.shape(), gp.shape(), e.getKey());
            boolean nonZero = false;
            for (int k = 0; k < Math.min(8, p.length()); k++) {
                long idx = (long) (r.nextDouble() * p.length());
                double orig = p.getDouble(idx);
                p.putScalar(idx, orig + eps);
                double up = d.pass(b, false, false, weights).crossEntropy();
                p.putScalar(idx, orig - eps);
                double down = d.pass(b, false, false, weights).crossEntropy();
                p.putScalar(idx, orig);
                double numeric = (up - down) / (2 * eps), analytic = gp.getDouble(idx);
                assertEquals(numeric, analytic, 1e-6 * Math.max(1, Math.abs(numeric)), e.getKey() + "[" + idx + "]");
                nonZero |= Math.abs(analytic) > 1e-9;
                checked++;
            }
            // every parameter takes part (the embedding rows of unused words excepted)
            if (!e.getKey().equals("E")) assertTrue(nonZero, e.getKey() + " got no gradient");
        }
        assertTrue(checked > 60, "checked " + checked);
    }
}
