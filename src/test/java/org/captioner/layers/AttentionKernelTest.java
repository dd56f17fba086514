package org.captioner.layers;

import org.captioner.encoder.NativeSetup;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The attention layer's float implementation (fused Java loops on two threads, fast tanh) against its plain ND4J
 * version in double precision, which {@code LayerGradientTest} checks against finite differences.
 */
class AttentionKernelTest {
    @BeforeAll
    static void setup() {
        NativeSetup.init();
    }

    /** 6 captions: every loop on one thread; 3,600: above the kernel's threshold, every loop split over two threads. */
    @ParameterizedTest(name = "{0} captions, sparsemax {1}, hard {2}")
    @CsvSource({"6, false, false", "3600, false, false", "6, true, false", "3600, true, false", "6, false, true"})
    void floatLoopsMatchTheNd4jVersion(int n, boolean sparsemax, boolean hard) {
        int l = 7, ch = 12, a = 9, h = 10;
        assertTrue(n < 10 || (long) n * l * a >= AttentionKernel.PARALLEL_THRESHOLD);
        Nd4j.getRandom().setSeed(n);
        INDArray grid = Nd4j.rand(DataType.DOUBLE, n, l, ch), h1 = Nd4j.randn(DataType.DOUBLE, n, h), h2 = Nd4j.randn(DataType.DOUBLE, n, h);
        INDArray dc = Nd4j.randn(DataType.DOUBLE, n, ch), dp = Nd4j.randn(DataType.DOUBLE, n, l);
        Map<String, INDArray> init = Map.of("W_a", Parameters.uniform(DataType.DOUBLE, 1, ch, a),
                "W_ha", Parameters.uniform(DataType.DOUBLE, 1, h, a), "w_att", Parameters.uniform(DataType.DOUBLE, 3, a, 1));
        Result d = run(init, DataType.DOUBLE, sparsemax, hard, grid, h1, h2, dc, dp);
        Result f = run(init, DataType.FLOAT, sparsemax, hard, grid, h1, h2, dc, dp);
        assertEquals(0, d.weights.sub(f.weights.castTo(DataType.DOUBLE)).amaxNumber().doubleValue(), 1e-5);
        assertEquals(0, d.context.sub(f.context.castTo(DataType.DOUBLE)).amaxNumber().doubleValue(), 1e-4);
        for (String name : init.keySet()) {
            INDArray gd = d.grads.get(name), gf = f.grads.get(name).castTo(DataType.DOUBLE);
            double norm = gd.norm2Number().doubleValue(), diff = gd.sub(gf).norm2Number().doubleValue();
            assertTrue(norm > 0, name + " has a zero gradient: the check would prove nothing");
            assertTrue(diff <= 1e-4 * norm, name + ": |float - double| " + diff + " vs |double| " + norm);
        }
        assertEquals(0, d.dh.sub(f.dh.castTo(DataType.DOUBLE)).amaxNumber().doubleValue(), 1e-4 * Math.max(1, d.dh.amaxNumber().doubleValue()));
    }

    record Result(INDArray weights, INDArray context, Map<String, INDArray> grads, INDArray dh) {
    }

    static Result run(Map<String, INDArray> init, DataType dt, boolean sparsemax, boolean hard, INDArray grid, INDArray h1, INDArray h2,
                      INDArray dc, INDArray dp) {
        Parameters p = new Parameters(new String[] {"W_a", "W_ha", "w_att"}, 1e-3);
        Map<String, INDArray> cast = new java.util.HashMap<>();
        init.forEach((k, v) -> cast.put(k, v.castTo(dt)));
        p.init(cast);
        int l = (int) grid.size(1);
        AdditiveAttention att = new AdditiveAttention(p, sparsemax, l, (int) grid.size(2), (int) init.get("W_a").size(1));
        AdditiveAttention.CellChoice pick = hard ? (t, b, pr, off, cells) -> (b + t) % cells : null;
        AdditiveAttention.Grid g = att.project(grid.castTo(dt), false);
        AdditiveAttention.Step s1 = att.forward(g, null, h1.castTo(dt), pick, 0, true);
        AdditiveAttention.Step s2 = att.forward(g, null, h2.castTo(dt), pick, 1, true);
        Map<String, INDArray> grads = p.zeroGradients();
        INDArray dh = att.backward(g, s2, dc.castTo(dt), dp.castTo(dt), grads).add(att.backward(g, s1, dc.castTo(dt), null, grads));
        att.finish(g, grads);
        return new Result(s2.weights(), s2.context(), grads, dh);
    }

    @Test
    void fastTanhIsWithinFloatRoundingOfMathTanh() {
        float[] x = new float[400_001];
        for (int i = 0; i < x.length; i++) x[i] = -20f + i * 1e-4f;
        float[] y = x.clone();
        AttentionKernel.tanhInPlace(y, 0, y.length);
        double worst = 0;
        for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] - Math.tanh(x[i])));
        assertTrue(worst < 5e-7, "tanh error " + worst);
    }
}
