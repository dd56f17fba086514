package org.captioner.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

/**
 * Additive attention over the L cells of a feature grid (Show, Attend and Tell; Bahdanau et al.), with a softmax or a
 * sparsemax map and a soft or a hard read. Parameters: W_a [C, A], W_ha [H, A], w_att [A, 1].
 * <pre>
 *   proj_i = a_i W_a                         [M,L,A]  once per image ({@link #project})
 *   e_i    = w_att . tanh(proj_i + h W_ha)   [B,L]
 *   p      = softmax(e) or sparsemax(e)      [B,L]    the map (kept for visualisation)
 *   ctx    = sum_i r_i a_i                   [B,C]    r = p (soft), or one-hot on a chosen cell (hard)
 * </pre>
 * In float the scores and the context run as fused Java loops ({@link AttentionKernel}); in any other data type (double,
 * for gradient checks) as ND4J ops, the plain version {@code AdditiveAttentionTest} checks the loops against.
 */
public final class AdditiveAttention {
    private final Parameters p;
    private final int cells, channels, units;
    private final boolean sparse;
    private final Linear query;
    private float[][] actPool = new float[0][];   // per step [B*L, A] activations, reused between batches

    /** Hard attention: the cell caption b reads at step t, given its map p[off .. off+cells). */
    public interface CellChoice {
        int pick(int t, int b, float[] p, int off, int cells);
    }

    /** {@code sparsemax}: the map is sparsemax(e), else softmax(e). */
    public AdditiveAttention(Parameters p, boolean sparsemax, int cells, int channels, int units) {
        this.p = p;
        this.sparse = sparsemax;
        this.cells = cells;
        this.channels = channels;
        this.units = units;
        this.query = new Linear(p, "W_ha", null);
    }

    /**
     * The grids of M images [M*L, C] and their projections [M*L, A]; a pass adds d(proj) here, step by step, and, when
     * the grid is itself computed ({@code gradient}), d(grid).
     */
    public final class Grid {
        final INDArray grid, proj;
        final boolean fast, gradient;
        final float[] gridF, projF, wF, dProjF, dGridF;
        INDArray dProj, dGrid;

        Grid(INDArray grids, boolean gradient) {
            this.gradient = gradient;
            long m = grids.size(0);
            grid = grids.dup('c').reshape(m * cells, channels);
            proj = grid.mmul(p.get("W_a"));
            fast = grid.dataType() == DataType.FLOAT;
            gridF = fast ? grid.data().asFloat() : null;
            projF = fast ? proj.dup('c').data().asFloat() : null;
            wF = fast ? p.get("w_att").dup('c').data().asFloat() : null;
            dProjF = fast ? new float[projF.length] : null;
            dGridF = fast && gradient ? new float[gridF.length] : null;
        }

        /** [M, L, C] */
        INDArray grid3() {
            return grid.reshape(grid.size(0) / cells, cells, channels);
        }
    }

    /** {@code grids} [M, L, C]; {@code gradient}: {@link #finish} also returns d(grid) (the grid is a layer's output). */
    public Grid project(INDArray grids, boolean gradient) {
        return new Grid(grids.castTo(p.get("W_a").dataType()), gradient);
    }

    /** A step: its query h [B,H], map [B,L], context [B,C], the chosen cells (hard) and the activations kept. */
    public record Step(INDArray h, INDArray weights, INDArray context, int[] chosen, float[] actF, INDArray act) {
    }

    /**
     * Step t for B captions, caption b reading image {@code image[b]} of the grid (null: image b); {@code pick} null
     * reads softly; {@code keep} keeps the activations for {@link #backward} (training).
     */
    public Step forward(Grid g, int[] image, INDArray h, CellChoice pick, int t, boolean keep) {
        int n = (int) h.size(0);
        INDArray hAtt = query.forward(h);                                                   // [B,A]  h W_ha
        float[] pf;                                                                         // [B*L]  the map
        INDArray act = null, weights;
        float[] actF = null;
        if (g.fast) {
            actF = keep ? actBuffer(t, n * cells * units) : null;
            float[] e = new AttentionKernel(g.projF, image, g.wF, cells, n, units).scores(hAtt.dup('c').data().asFloat(), actF);
            pf = new float[n * cells];
            for (int b = 0; b < n; b++) {
                if (sparse) Sparsemax.forward(e, b * cells, 1, pf, b * cells, cells);
                else softmax(e, pf, b * cells, cells);
            }
            weights = Nd4j.create(pf, new long[] {n, cells}, 'c');
        } else {
            INDArray proj = image == null ? g.proj.reshape(n, (long) cells * units)
                    : g.proj.reshape(g.proj.size(0) / cells, (long) cells * units).getRows(image);
            act = Transforms.tanh(proj.add(Nd4j.tile(hAtt, 1, cells)), false).reshape((long) n * cells, units); // [B*L,A]
            INDArray e = act.mmul(p.get("w_att")).reshape(n, cells);                        // [B,L]
            weights = sparse ? Sparsemax.rows(e) : Transforms.softmax(e, false);
            pf = weights.castTo(DataType.FLOAT).dup('c').data().asFloat();
        }
        int[] chosen = null;
        float[] read = pf;                                                                  // [B*L]  what the context reads
        if (pick != null) {
            chosen = new int[n];
            read = new float[n * cells];
            for (int b = 0; b < n; b++) read[b * cells + (chosen[b] = pick.pick(t, b, pf, b * cells, cells))] = 1f;
        }
        INDArray context;
        if (g.fast) {
            context = Nd4j.create(AttentionKernel.context(g.gridF, image, read, n, cells, channels), new long[] {n, channels}, 'c');
        } else {
            INDArray r = pick == null ? weights : Nd4j.create(read, new long[] {n, cells}, 'c').castTo(weights.dataType());
            INDArray grid3 = image == null ? g.grid3() : g.grid.reshape(g.grid.size(0) / cells, (long) cells * channels).getRows(image).reshape(n, cells, channels);
            context = Nd4j.matmul(r.reshape(n, 1, cells), grid3).reshape(n, channels);      // [B,C]
        }
        return new Step(h, weights, context, chosen, actF, act);
    }

    /**
     * Back through step s (training: caption b reads image b): {@code dContext} [B,C] and {@code dWeights} [B,L] (more
     * loss gradient on the map, or null); adds d(w_att), d(W_ha) into {@code grads} and d(proj) into the grid; returns
     * d h [B,H]. A hard read passes no gradient from the context to the map (it reads the chosen cell's vector).
     */
    public INDArray backward(Grid g, Step s, INDArray dContext, INDArray dWeights, Map<String, INDArray> grads) {
        int n = (int) s.h().size(0);
        INDArray dHAtt;                                                                     // [B,A]
        if (g.fast) {
            float[] pf = s.weights().data().asFloat(), dCtx = dContext.castTo(DataType.FLOAT).dup('c').data().asFloat();
            float[] dP = s.chosen() != null ? new float[n * cells] : AttentionKernel.contextWeightsGradient(g.gridF, dCtx, n, cells, channels);
            if (dWeights != null) {
                float[] extra = dWeights.castTo(DataType.FLOAT).dup('c').data().asFloat();
                for (int i = 0; i < dP.length; i++) dP[i] += extra[i];
            }
            float[] de = new float[n * cells], dw = new float[units];
            for (int b = 0; b < n; b++) {
                if (sparse) Sparsemax.backward(pf, dP, b * cells, cells, de, b * cells, 1);
                else softmaxBackward(pf, dP, de, b * cells, cells);
            }
            if (g.gradient) AttentionKernel.addContextGridGradient(g.dGridF, readOf(s, pf), dCtx, n, cells, channels);
            float[] dh = new AttentionKernel(g.projF, null, g.wF, cells, n, units).backward(s.actF(), de, g.dProjF, dw);
            grads.get("w_att").addi(Nd4j.create(dw, new long[] {units, 1}, 'c'));
            dHAtt = Nd4j.create(dh, new long[] {n, units}, 'c');
        } else {
            INDArray dP = s.chosen() != null ? Nd4j.zeros(s.weights().dataType(), n, cells)
                    : Nd4j.matmul(g.grid3(), dContext.reshape(n, channels, 1)).reshape(n, cells); // a_i . dctx
            if (dWeights != null) dP.addi(dWeights);
            INDArray pw = s.weights();
            if (g.gradient) {                                                               // d a_i += r_i dctx
                INDArray r = Nd4j.create(readOf(s, pw.castTo(DataType.FLOAT).dup('c').data().asFloat()), new long[] {n, cells, 1}, 'c').castTo(pw.dataType());
                INDArray d = Nd4j.matmul(r, dContext.reshape(n, 1, channels)).reshape((long) n * cells, channels);
                g.dGrid = g.dGrid == null ? d : g.dGrid.addi(d);
            }
            INDArray de = sparse ? Sparsemax.rowsBackward(pw, dP) : pw.mul(dP.subColumnVector(pw.mul(dP).sum(true, 1)));
            INDArray deCol = de.reshape((long) n * cells, 1);                               // [B*L,1]
            Nd4j.gemm(s.act(), deCol, grads.get("w_att"), true, false, 1.0, 1.0);
            INDArray dPre = s.act().mul(s.act()).rsubi(1.0).muliRowVector(p.get("w_att").reshape(1, units)).muliColumnVector(deCol);
            g.dProj = g.dProj == null ? dPre : g.dProj.addi(dPre);                          // [B*L,A]
            dHAtt = dPre.reshape(n, cells, units).sum(1);                                   // summed over cells
        }
        query.backward(s.h(), dHAtt, grads);
        return query.inputGradient(dHAtt);
    }

    /** After the last step's backward: d W_a = grid^T d(proj); returns d(grid) [M*L, C] when asked for, else null. */
    public INDArray finish(Grid g, Map<String, INDArray> grads) {
        INDArray dProj = g.fast ? Nd4j.create(g.dProjF, new long[] {g.proj.size(0), units}, 'c') : g.dProj;
        if (dProj != null) Nd4j.gemm(g.grid, dProj, grads.get("W_a"), true, false, 1.0, 1.0);
        if (!g.gradient) return null;
        INDArray dGrid = g.fast ? Nd4j.create(g.dGridF, new long[] {g.grid.size(0), channels}, 'c')
                : g.dGrid != null ? g.dGrid : Nd4j.zeros(g.grid.dataType(), g.grid.size(0), channels);
        if (dProj != null) Nd4j.gemm(dProj, p.get("W_a"), dGrid, false, true, 1.0, 1.0);      // + d(proj) W_a^T
        return dGrid;
    }

    /** The weights step s's context read with: its map, or one-hot on the chosen cells. */
    private float[] readOf(Step s, float[] map) {
        if (s.chosen() == null) return map;
        float[] r = new float[map.length];
        for (int b = 0; b < s.chosen().length; b++) r[b * cells + s.chosen()[b]] = 1f;
        return r;
    }

    private float[] actBuffer(int t, int size) {
        if (actPool.length <= t) actPool = java.util.Arrays.copyOf(actPool, t + 1);
        if (actPool[t] == null || actPool[t].length < size) actPool[t] = new float[size];
        return actPool[t];
    }

    private static void softmax(float[] e, float[] p, int o, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, e[o + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += p[o + i] = (float) Math.exp(e[o + i] - max);
        float inv = (float) (1 / sum);
        for (int i = 0; i < n; i++) p[o + i] *= inv;
    }

    /** de = p * (dp - sum_j p_j dp_j). */
    private static void softmaxBackward(float[] p, float[] dp, float[] de, int o, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += p[o + i] * dp[o + i];
        for (int i = 0; i < n; i++) de[o + i] = (float) (p[o + i] * (dp[o + i] - s));
    }
}
