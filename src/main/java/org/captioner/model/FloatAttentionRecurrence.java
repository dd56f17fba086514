package org.captioner.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The recurrent part of {@link AttentionDecoder}'s training pass in float: the steps that depend on h_{t-1}, forward
 * and back-propagated through time. Matrix products go to ND4J (BLAS); everything element-wise runs in Java loops
 * on heap arrays of one step ([B,H], [B,L], ...), because at these sizes ND4J's per-op cost (~0.2-1 ms each,
 * ~70 ops a step) was most of the step. Same formulas as the reference pass in {@link AttentionDecoder}, which
 * runs in any data type and is what {@code AttentionDecoderFloatTest} compares this class to.
 * Shapes: B captions, T steps, L cells, C channels, A attention, H hidden, K = 4H + A + C.
 */
final class FloatAttentionRecurrence {
    /** Hard attention: the cell caption b reads at step t, given its attention map p[off .. off+cells). */
    interface CellChoice {
        int pick(int t, int b, float[] p, int off, int cells);
    }

    private final int n, steps, cells, ch, att, hid, k;
    private final CellChoice choice;   // null: soft attention (context = sum_i p_i a_i)
    final int[][] chosen;              // hard attention: [T][B] the cell read
    private final boolean sparse;      // sparsemax instead of softmax over the cells
    private final float[] grid;        // [B,L,C]  image-major
    private final float[] gx;          // [T*B,4H] x_t W_x + b, time-major
    private final float[] mask;        // [T*B]
    private final float[] bBeta;       // [C]
    private final INDArray wCat;       // [H,K]    [W_h | W_ha | W_beta]: every product with h_{t-1} in one GEMM
    private final INDArray wZ;         // [C,4H]
    private final AttentionScoreKernel scores;
    private final float[][] act;       // per step [L*B,A] tanh activations (pooled by the decoder)
    // the tape, per step
    private final float[][] h, c, gi, gf, go, gg, tanhC, alpha, ctx, beta;
    final float[] hAll, zAll, coverage; // [T*B,H], [T*B,C], [B,L]

    FloatAttentionRecurrence(int n, int steps, int cells, int ch, int att, int hid, float[] grid, float[] gx, float[] mask,
                             float[] bBeta, INDArray wCat, INDArray wZ, AttentionScoreKernel scores, float[][] act,
                             float[] h0, float[] c0, boolean sparse, CellChoice choice) {
        this.sparse = sparse;
        this.choice = choice;
        this.chosen = choice == null ? null : new int[steps][n];
        this.n = n;
        this.steps = steps;
        this.cells = cells;
        this.ch = ch;
        this.att = att;
        this.hid = hid;
        this.k = 4 * hid + att + ch;
        this.grid = grid;
        this.gx = gx;
        this.mask = mask;
        this.bBeta = bBeta;
        this.wCat = wCat;
        this.wZ = wZ;
        this.scores = scores;
        this.act = act;
        h = new float[steps + 1][];
        c = new float[steps + 1][];
        gi = new float[steps][]; gf = new float[steps][]; go = new float[steps][]; gg = new float[steps][];
        tanhC = new float[steps][]; alpha = new float[steps][]; ctx = new float[steps][]; beta = new float[steps][];
        h[0] = h0;
        c[0] = c0;
        hAll = new float[steps * n * hid];
        zAll = new float[steps * n * ch];
        coverage = new float[n * cells];
    }

    /** x [rows, cols] times w (or w^T), through ND4J's GEMM. */
    private static float[] mm(float[] x, int rows, int cols, INDArray w, boolean transposeW) {
        INDArray xi = Nd4j.create(x, new long[] {rows, cols}, 'c');
        return Nd4j.gemm(xi, w, false, transposeW).data().asFloat();
    }

    void forward() {
        int h4 = 4 * hid;
        for (int t = 0; t < steps; t++) {
            float[] hp = h[t], cp = c[t];
            float[] hcat = mm(hp, n, hid, wCat, false);                          // [B,K] h W_h | h W_ha | h W_beta
            float[] hAtt = new float[n * att];                                    // [B,A]
            for (int b = 0; b < n; b++) System.arraycopy(hcat, b * k + h4, hAtt, b * att, att);
            float[] e = scores.forward(hAtt, act[t]);                             // [L*B] cell-major
            float[] p = new float[n * cells];                                     // [B,L] softmax (or sparsemax) over cells
            if (sparse) for (int b = 0; b < n; b++) Sparsemax.forward(e, b, n, p, b * cells, cells);
            else for (int b = 0; b < n; b++) {
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < cells; i++) max = Math.max(max, e[i * n + b]);
                double sum = 0;
                for (int i = 0; i < cells; i++) {
                    float v = (float) Math.exp(e[i * n + b] - max);
                    p[b * cells + i] = v;
                    sum += v;
                }
                float inv = (float) (1 / sum);
                for (int i = 0; i < cells; i++) p[b * cells + i] *= inv;
            }
            float[] read = p;                                                     // [B,L] weights the context reads with
            if (choice != null) {                                                 // hard: one-hot on the chosen cell
                read = new float[n * cells];
                for (int b = 0; b < n; b++) {
                    int cell = choice.pick(t, b, p, b * cells, cells);
                    chosen[t][b] = cell;
                    read[b * cells + cell] = 1f;
                }
            }
            float[] context = AttentionScoreKernel.context(grid, read, n, cells, ch); // [B,C] sum_i read_i a_i
            float[] gate = new float[n * ch], z = new float[n * ch];              // [B,C]
            for (int b = 0; b < n; b++) {
                for (int j = 0; j < ch; j++) gate[b * ch + j] = hcat[b * k + h4 + att + j] + bBeta[j];
            }
            AttentionScoreKernel.sigmoidInPlace(gate, 0, gate.length);          // beta = sigmoid(h W_beta + b)
            for (int j = 0; j < z.length; j++) z[j] = gate[j] * context[j];      // z = beta * ctx
            float[] zw = mm(z, n, ch, wZ, false);                                 // [B,4H] z W_z
            float[] ig = new float[n * hid], fg = new float[n * hid], og = new float[n * hid], g = new float[n * hid];
            int gxo = t * n * h4;
            for (int b = 0; b < n; b++) {                                         // gates = gx + h W_h + z W_z
                for (int j = 0; j < hid; j++) {
                    int o = b * h4 + j, oc = b * k + j, oh = b * hid + j;
                    ig[oh] = gx[gxo + o] + hcat[oc] + zw[o];
                    fg[oh] = gx[gxo + o + hid] + hcat[oc + hid] + zw[o + hid];
                    og[oh] = gx[gxo + o + 2 * hid] + hcat[oc + 2 * hid] + zw[o + 2 * hid];
                    g[oh] = gx[gxo + o + 3 * hid] + hcat[oc + 3 * hid] + zw[o + 3 * hid];
                }
            }
            AttentionScoreKernel.sigmoidInPlace(ig, 0, ig.length);
            AttentionScoreKernel.sigmoidInPlace(fg, 0, fg.length);
            AttentionScoreKernel.sigmoidInPlace(og, 0, og.length);
            AttentionScoreKernel.tanhInPlace(g, 0, g.length);
            float[] cn = new float[n * hid], tc = new float[n * hid], hn = new float[n * hid];
            for (int j = 0; j < cn.length; j++) cn[j] = fg[j] * cp[j] + ig[j] * g[j];  // c_t
            System.arraycopy(cn, 0, tc, 0, cn.length);
            AttentionScoreKernel.tanhInPlace(tc, 0, tc.length);
            for (int j = 0; j < hn.length; j++) hn[j] = og[j] * tc[j];            // h_t
            for (int b = 0; b < n; b++) {
                float m = mask[t * n + b];
                if (m != 0) for (int i = 0; i < cells; i++) coverage[b * cells + i] += m * p[b * cells + i];
            }
            System.arraycopy(hn, 0, hAll, t * n * hid, hn.length);
            System.arraycopy(z, 0, zAll, t * n * ch, z.length);
            h[t + 1] = hn; c[t + 1] = cn;
            gi[t] = ig; gf[t] = fg; go[t] = og; gg[t] = g; tanhC[t] = tc; alpha[t] = p; ctx[t] = context; beta[t] = gate;
        }
    }

    /** h_{t-1} of every step, time-major [T*B,H]. */
    float[] hPrevAll() {
        float[] out = new float[steps * n * hid];
        for (int t = 0; t < steps; t++) System.arraycopy(h[t], 0, out, t * n * hid, n * hid);
        return out;
    }

    /** What the backward pass hands to the weight gradients. */
    record Gradients(float[] dCat, float[] dProj, float[] dw, float[] dh0, float[] dc0) {
        // dCat [T*B,K] = [d gates | d(h W_ha) | d(h W_beta + b)] per step; dProj [L*B,A]; dw [A]; dh0, dc0 [B,H]
    }

    /** The attention map of step t, [B,L]. */
    float[] attention(int t) {
        return alpha[t];
    }

    /**
     * Back-propagation through time. {@code dhOut} [T*B,H]: the loss gradient arriving at each h_t from the
     * output layer; {@code dCoverage} [B,L]: d(regulariser)/d(sum_t p_t); {@code dAlphaExtra} (or null): per step
     * [B,L] more loss gradient on p_t (hard attention's REINFORCE and entropy terms). With hard attention the context
     * does not depend on p (it is the chosen cell's vector), so p gets only those.
     */
    Gradients backward(float[] dhOut, float[] dCoverage, float[][] dAlphaExtra) {
        int h4 = 4 * hid;
        float[] dCat = new float[steps * n * k];
        float[] dProj = new float[cells * n * att], dw = new float[att];
        float[] dhNext = new float[n * hid], dcNext = new float[n * hid];
        for (int t = steps - 1; t >= 0; t--) {
            float[] ig = gi[t], fg = gf[t], og = go[t], g = gg[t], tc = tanhC[t], cp = c[t];
            float[] dGates = new float[n * h4];                                   // [B,4H]
            float[] dcPrev = new float[n * hid];
            int dho = t * n * hid;
            for (int b = 0; b < n; b++) {                                         // LSTM cell
                for (int j = 0; j < hid; j++) {
                    int o = b * hid + j, og4 = b * h4 + j;
                    float dh = dhOut[dho + o] + dhNext[o];
                    float dc = dh * og[o] * (1 - tc[o] * tc[o]) + dcNext[o];
                    dGates[og4] = dc * g[o] * ig[o] * (1 - ig[o]);                 // d i (pre-activation)
                    dGates[og4 + hid] = dc * cp[o] * fg[o] * (1 - fg[o]);          // d f
                    dGates[og4 + 2 * hid] = dh * tc[o] * og[o] * (1 - og[o]);      // d o
                    dGates[og4 + 3 * hid] = dc * ig[o] * (1 - g[o] * g[o]);        // d g
                    dcPrev[o] = dc * fg[o];
                }
            }
            float[] dz = mm(dGates, n, h4, wZ, true);                             // [B,C] dGates W_z^T
            float[] bt = beta[t], cx = ctx[t], p = alpha[t];
            float[] dBetaPre = new float[n * ch], dCtx = new float[n * ch];
            for (int j = 0; j < dz.length; j++) {
                dBetaPre[j] = dz[j] * cx[j] * bt[j] * (1 - bt[j]);                 // gate beta
                dCtx[j] = dz[j] * bt[j];                                           // context
            }
            float[] dAlpha = choice != null ? new float[n * cells]
                    : AttentionScoreKernel.contextWeightsGradient(grid, dCtx, n, cells, ch); // [B,L]
            if (dAlphaExtra != null && dAlphaExtra[t] != null) for (int o = 0; o < dAlpha.length; o++) dAlpha[o] += dAlphaExtra[t][o];
            float[] de = new float[cells * n];                                     // [L*B] cell-major
            for (int b = 0; b < n; b++) {
                float m = mask[t * n + b];
                double s = 0;
                for (int i = 0; i < cells; i++) {
                    int o = b * cells + i;
                    dAlpha[o] += m * dCoverage[o];                                 // coverage regulariser
                    s += p[o] * dAlpha[o];
                }
                if (sparse) Sparsemax.backward(p, dAlpha, b * cells, cells, de, b, n);
                else for (int i = 0; i < cells; i++) {                                  // softmax backward
                    int o = b * cells + i;
                    de[i * n + b] = (float) (p[o] * (dAlpha[o] - s));
                }
            }
            float[] dHAtt = scores.backward(act[t], de, dProj, dw);               // [B,A]
            int co = t * n * k;                                                    // this step's rows of dCat
            for (int b = 0; b < n; b++) {
                System.arraycopy(dGates, b * h4, dCat, co + b * k, h4);
                System.arraycopy(dHAtt, b * att, dCat, co + b * k + h4, att);
                System.arraycopy(dBetaPre, b * ch, dCat, co + b * k + h4 + att, ch);
            }
            float[] stepCat = java.util.Arrays.copyOfRange(dCat, co, co + n * k);
            dhNext = mm(stepCat, n, k, wCat, true);                               // [B,H] dCat W_cat^T
            dcNext = dcPrev;
        }
        return new Gradients(dCat, dProj, dw, dhNext, dcNext);
    }
}
