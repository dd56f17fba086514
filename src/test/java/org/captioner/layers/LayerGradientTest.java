package org.captioner.layers;

import org.captioner.encoder.NativeSetup;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Each layer's backward pass against finite differences, in double precision: the loss is sum(output * R) for a fixed
 * random R, so the gradient arriving at the output is R. Inputs are checked as parameters too (they sit in the same
 * map), so a wrong input gradient fails as a wrong weight gradient would.
 */
class LayerGradientTest {
    static final DataType D = DataType.DOUBLE;

    @BeforeAll
    static void setup() {
        NativeSetup.init();
    }

    /** Parameters with the given shapes, U(-1, 1). */
    static Parameters params(Map<String, long[]> shapes, long seed) {
        Nd4j.getRandom().setSeed(seed);
        Map<String, INDArray> init = new LinkedHashMap<>();
        shapes.forEach((k, s) -> init.put(k, Parameters.uniform(D, 1.0, s)));
        Parameters p = new Parameters(shapes.keySet().toArray(String[]::new), 1e-3);
        p.init(init);
        return p;
    }

    static double dot(INDArray y, INDArray r) {
        return y.mul(r).sumNumber().doubleValue();
    }

    static Map<String, long[]> shapes(Object... kv) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], (long[]) kv[i + 1]);
        return m;
    }

    @Test
    void linear() {
        Parameters p = params(shapes("x", new long[] {3, 4}, "W", new long[] {4, 5}, "b", new long[] {1, 5}), 1);
        Linear lin = new Linear(p, "W", "b");
        INDArray r = Nd4j.rand(D, 3, 5);
        Map<String, INDArray> g = p.zeroGradients();
        lin.backward(p.get("x"), r, g);
        g.get("x").addi(lin.inputGradient(r));
        FiniteDifferences.check(p.all(), g, () -> dot(lin.forward(p.get("x")), r), 8, new Random(1));
    }

    @Test
    void gridProjection() {
        Parameters p = params(shapes("grid", new long[] {2, 3, 4}, "W", new long[] {4, 5}, "b", new long[] {1, 5}), 7);
        p.get("b").addi(0.3);                                                         // most ReLUs open, some closed
        GridProjection proj = new GridProjection(p, "W", "b", 5);
        INDArray r = Nd4j.rand(D, 2, 3, 5), out = proj.forward(p.get("grid"));
        assertTrue(out.eq(0).castTo(DataType.INT32).sumNumber().intValue() > 0, "some ReLUs closed: the check covers them");
        Map<String, INDArray> g = p.zeroGradients();
        INDArray dOut = r.dup('c').reshape(6, 5);
        proj.backward(p.get("grid"), out, dOut, g);
        g.get("grid").addi(dOut.mmul(p.get("W").transpose()).reshape(2, 3, 4));      // the ReLU-masked gradient, back through W
        FiniteDifferences.check(p.all(), g, () -> dot(proj.forward(p.get("grid")), r), 8, new Random(7));
    }

    @Test
    void embeddingAddsRepeatedWords() {
        Parameters p = params(shapes("E", new long[] {6, 3}), 2);
        Embedding emb = new Embedding(p, "E");
        int[] ids = {1, 4, 1, 0};
        INDArray r = Nd4j.rand(D, 4, 3);
        Map<String, INDArray> g = p.zeroGradients();
        emb.backward(ids, r, g);
        FiniteDifferences.check(p.all(), g, () -> dot(emb.forward(ids), r), 18, new Random(2));
        assertEquals(r.getDouble(0, 0) + r.getDouble(2, 0), g.get("E").getDouble(1, 0), 1e-12);
    }

    @Test
    void weightedCrossEntropy() {
        Parameters p = params(shapes("logits", new long[] {4, 6}), 3);
        int[] targets = {2, 5, 0, 1};
        double[] w = {0.5, -0.3, 2.0, 0.7};
        float[] mask = {1, 1, 1, 0};                                                  // the last row is padding
        var out = WeightedCrossEntropy.forward(p.get("logits").dup(), targets, w, mask);
        Map<String, INDArray> g = p.zeroGradients();
        g.get("logits").addi(WeightedCrossEntropy.backward(out, targets, w, mask));
        FiniteDifferences.check(p.all(), g, () -> WeightedCrossEntropy.forward(p.get("logits").dup(), targets, w, mask).loss(), 24, new Random(3));
        assertEquals(0, g.get("logits").getRow(3).amaxNumber().doubleValue(), 0, "padding passes no gradient");
    }

    /** Two steps of a cell, so the state gradient (dh, and dc) passed back between steps is checked too. */
    @ParameterizedTest
    @ValueSource(strings = {"rnn", "lstm", "gru"})
    void recurrentCells(String type) {
        int b = 3, h = 4, width = type.equals("rnn") ? h : type.equals("gru") ? 3 * h : 4 * h;
        Parameters p = params(shapes("in1", new long[] {b, width}, "in2", new long[] {b, width}, "h0", new long[] {b, h},
                "c0", new long[] {b, h}, "W_h", new long[] {h, width}, "b", new long[] {1, width}, "b_hn", new long[] {1, h}), 4);
        RecurrentCell cell = switch (type) {
            case "rnn" -> new RnnCell(p, "W_h", "b", h);
            case "lstm" -> new LstmCell(p, "W_h", "b", h);
            default -> new GruCell(p, "W_h", "b", "b_hn", h);
        };
        INDArray r1 = Nd4j.rand(D, b, h), r2 = Nd4j.rand(D, b, h);
        java.util.function.Supplier<RecurrentCell.Step[]> run = () -> {
            INDArray[] s0 = cell.stateSize() == 2 ? new INDArray[] {p.get("h0"), p.get("c0")} : new INDArray[] {p.get("h0")};
            RecurrentCell.Step s1 = cell.forward(p.get("in1").dup(), s0);
            return new RecurrentCell.Step[] {s1, cell.forward(p.get("in2").dup(), s1.state())};
        };
        RecurrentCell.Step[] steps = run.get();
        Map<String, INDArray> g = p.zeroGradients();
        RecurrentCell.Gradients d2 = cell.backward(steps[1], new INDArray[] {r2, null}, g);
        g.get("in2").addi(d2.dIn());
        INDArray[] d = d2.dPrev().clone();
        d[0] = d[0].add(r1);
        RecurrentCell.Gradients d1 = cell.backward(steps[0], d, g);
        g.get("in1").addi(d1.dIn());
        g.get("h0").addi(d1.dPrev()[0]);
        if (cell.stateSize() == 2) g.get("c0").addi(d1.dPrev()[1]);
        String[] unused = switch (type) {                                             // parameters a cell does not have
            case "rnn" -> new String[] {"b_hn", "c0"};
            case "lstm" -> new String[] {"b_hn"};
            default -> new String[] {"c0"};
        };
        FiniteDifferences.check(p.all(), g, () -> {
            RecurrentCell.Step[] s = run.get();
            return dot(s[0].state()[0], r1) + dot(s[1].state()[0], r2);
        }, 8, new Random(4), unused);
    }

    /**
     * Two steps of attention over 2 images x 5 cells x 3 channels, both outputs (map and context) in the loss; the
     * hard read with fixed cells passes its gradient only through the map.
     */
    @ParameterizedTest
    @CsvSource({"false, false", "true, false", "false, true"})
    void additiveAttention(boolean sparsemax, boolean hardRead) {
        int b = 2, l = 5, ch = 3, a = 4, h = 3;
        Parameters p = params(shapes("grid", new long[] {b, l, ch}, "h1", new long[] {b, h}, "h2", new long[] {b, h},
                "W_a", new long[] {ch, a}, "W_ha", new long[] {h, a}, "w_att", new long[] {a, 1}), sparsemax ? 6 : 5);
        p.get("w_att").muli(sparsemax ? 1.5 : 3);                                     // spread scores (sparse maps, yet not one-hot)
        AdditiveAttention att = new AdditiveAttention(p, sparsemax, l, ch, a);
        INDArray rc1 = Nd4j.rand(D, b, ch), rc2 = Nd4j.rand(D, b, ch), rp1 = Nd4j.rand(D, b, l), rp2 = Nd4j.rand(D, b, l);
        AdditiveAttention.CellChoice pick = hardRead ? (t, cap, pr, off, cells) -> (t + 2 * cap) % cells : null;
        java.util.function.Supplier<Object[]> run = () -> {
            AdditiveAttention.Grid grid = att.project(p.get("grid"), true);
            return new Object[] {grid, att.forward(grid, null, p.get("h1"), pick, 0, true), att.forward(grid, null, p.get("h2"), pick, 1, true)};
        };
        Object[] fw = run.get();
        AdditiveAttention.Grid grid = (AdditiveAttention.Grid) fw[0];
        AdditiveAttention.Step s1 = (AdditiveAttention.Step) fw[1], s2 = (AdditiveAttention.Step) fw[2];
        if (sparsemax) {
            int zeros = s1.weights().eq(0).castTo(DataType.INT32).sumNumber().intValue() + s2.weights().eq(0).castTo(DataType.INT32).sumNumber().intValue();
            assertTrue(zeros > 0 && zeros < 2 * b * (l - 1), "some cells get weight 0, but not all but one: " + zeros);
        }
        Map<String, INDArray> g = p.zeroGradients();
        g.get("h2").addi(att.backward(grid, s2, rc2, rp2, g));
        g.get("h1").addi(att.backward(grid, s1, rc1, rp1, g));
        g.get("grid").addi(att.finish(grid, g).reshape(b, l, ch));                   // through the context and the projection
        FiniteDifferences.check(p.all(), g, () -> {
            Object[] f = run.get();
            AdditiveAttention.Step a1 = (AdditiveAttention.Step) f[1], a2 = (AdditiveAttention.Step) f[2];
            return dot(a1.context(), rc1) + dot(a2.context(), rc2) + dot(a1.weights(), rp1) + dot(a2.weights(), rp2);
        }, 8, new Random(6));
    }

    @Test
    void dropoutKeepsTheExpectedFractionScaled() {
        Dropout d = new Dropout(0.25, 9);
        INDArray m = d.mask(true, 200, 100, DataType.FLOAT);
        double kept = m.gt(0).castTo(DataType.INT32).sumNumber().doubleValue() / m.length();
        assertEquals(0.75, kept, 0.01);
        assertEquals(1 / 0.75, m.maxNumber().doubleValue(), 1e-6);
        assertNull(d.mask(false, 2, 2, DataType.FLOAT), "no dropout outside training");
        assertNull(new Dropout(0, 1).mask(true, 2, 2, DataType.FLOAT));
    }
}
