package org.captioner.model;

import java.util.stream.IntStream;

/**
 * The inner loops of additive attention in float, on plain Java arrays: the part of a training step that touches
 * one value per (grid cell, caption, attention unit), 169 x 64 x 256 = 2.8 M per step, and the context sum over
 * the grid (169 x 64 x 512). As separate ND4J ops (broadcast add, tanh, matrix-vector product, then five
 * element-wise ops and a reduction over cells going back) the scores took ~95 ms a step, mostly allocation of
 * [L*B,A] temporaries and ND4J's scalar tanh; fused here into one pass forward and one backward they take ~5 ms.
 * Loops are written in the shapes HotSpot vectorises, and split over captions on two threads so per-caption
 * accumulators are never shared.
 * <p>Score rows are cell-major: row {@code r = cell * B + caption} of the [L*B, A] matrices.
 */
final class AttentionScoreKernel {
    private final int cells, batch, units;
    private final boolean cellMajor;
    private final float[] proj;   // [L*B, A] (cell-major) or [B*L, A] (image-major): a_i W_a (read only)
    private final float[] w;      // [A]       w_att
    private final int[] image;    // caption -> image row of proj (decoding), or null: caption b is row b

    /** {@code proj}: the projected grid, cell-major [L*B, A]; {@code w}: the attention vector [A]. */
    AttentionScoreKernel(float[] proj, float[] w, int cells, int batch, int units) {
        this(proj, w, cells, batch, units, true);
    }

    /** With {@code cellMajor} false, {@code proj} and the scores are image-major ([B*L, A], row b*L + cell). */
    AttentionScoreKernel(float[] proj, float[] w, int cells, int batch, int units, boolean cellMajor) {
        this(proj, null, w, cells, batch, units, cellMajor);
    }

    /**
     * For decoding: caption b's projected grid is image {@code image[b]} of {@code proj} ([M*L, A], image-major),
     * so the beams of one image share its grid instead of each carrying a copy. Scores stay [B*L].
     */
    AttentionScoreKernel(float[] proj, int[] image, float[] w, int cells, int batch, int units, boolean cellMajor) {
        this.proj = proj;
        this.image = image;
        this.w = w;
        this.cells = cells;
        this.batch = batch;
        this.units = units;
        this.cellMajor = cellMajor;
    }

    private int row(int cell, int caption) {
        return cellMajor ? cell * batch + caption : caption * cells + cell;
    }

    /**
     * act = tanh(proj + hAtt broadcast over cells) into {@code act} [L*B, A] (kept for the backward pass);
     * returns e = act . w, one per row ([L*B] cell-major, or [B*L]).
     */
    float[] forward(float[] hAtt, float[] act) {
        return scores(hAtt, act);
    }

    /** The scores e alone, for decoding: each row's activations go through one reused [A] buffer. */
    float[] forward(float[] hAtt) {
        return scores(hAtt, null);
    }

    private float[] scores(float[] hAtt, float[] keep) {
        float[] e = new float[cells * batch];
        forEachCaptionRange(batch, (long) cells * units, (b0, b1) -> {
            float[] act = keep != null ? keep : new float[units];
            for (int l = 0; l < cells; l++) {
                for (int b = b0; b < b1; b++) {
                    int r = row(l, b), po = (image == null ? r : row(l, image[b])) * units, o = keep != null ? po : 0, ho = b * units;
                    for (int k = 0; k < units; k++) act[o + k] = proj[po + k] + hAtt[ho + k];  // [A] pre-activation
                    tanhInPlace(act, o, o + units);
                    e[r] = dot(act, o, w, 0, units);                                           // e_ti = w . act
                }
            }
        });
        return e;
    }

    /**
     * Backward of e = w . tanh(proj + hAtt) given de [L*B] (cell-major): adds d(proj) into {@code dProj} [L*B, A]
     * and d(w) into {@code dw} [A]; returns d(hAtt) [B, A] (summed over cells).
     */
    float[] backward(float[] act, float[] de, float[] dProj, float[] dw) {
        float[] dHAtt = new float[batch * units];
        float[][] dwPart = new float[2][units];
        forEachCaptionRange(batch, (long) cells * units, (b0, b1) -> {
            float[] dwLocal = dwPart[b0 == 0 ? 0 : 1];
            float[] pre = new float[units];
            for (int l = 0; l < cells; l++) {
                for (int b = b0; b < b1; b++) {
                    int r = row(l, b), o = r * units, ho = b * units;
                    float d = de[r];
                    for (int k = 0; k < units; k++) {                                           // d pre-activation
                        float a = act[o + k];
                        pre[k] = d * w[k] * (1 - a * a);
                    }
                    for (int k = 0; k < units; k++) dProj[o + k] += pre[k];
                    for (int k = 0; k < units; k++) dHAtt[ho + k] += pre[k];
                    for (int k = 0; k < units; k++) dwLocal[k] += d * act[o + k];
                }
            }
        });
        for (int k = 0; k < units; k++) dw[k] += dwPart[0][k] + dwPart[1][k];
        return dHAtt;
    }

    /** ctx[b] = sum_i alpha[b,i] grid[b,i,:]: grid [B,L,C], alpha [B,L] -> [B,C]. */
    static float[] context(float[] grid, float[] alpha, int batch, int cells, int channels) {
        return context(grid, null, alpha, batch, cells, channels);
    }

    /** The same with caption b's grid at image {@code image[b]} of grid [M,L,C] (null: image b). */
    static float[] context(float[] grid, int[] image, float[] alpha, int batch, int cells, int channels) {
        float[] ctx = new float[batch * channels];
        forEachCaptionRange(batch, (long) cells * channels, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                int co = b * channels;
                for (int i = 0; i < cells; i++) {
                    float p = alpha[b * cells + i];
                    if (p == 0f) continue;                     // sparsemax: most cells carry no weight
                    int go = ((image == null ? b : image[b]) * cells + i) * channels;
                    for (int k = 0; k < channels; k++) ctx[co + k] += p * grid[go + k];
                }
            }
        });
        return ctx;
    }

    /** d alpha[b,i] = grid[b,i,:] . dCtx[b,:]: the backward of {@link #context} for the weights, [B,L]. */
    static float[] contextWeightsGradient(float[] grid, float[] dCtx, int batch, int cells, int channels) {
        float[] dAlpha = new float[batch * cells];
        forEachCaptionRange(batch, (long) cells * channels, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                for (int i = 0; i < cells; i++) dAlpha[b * cells + i] = dot(grid, (b * cells + i) * channels, dCtx, b * channels, channels);
            }
        });
        return dAlpha;
    }

    /** x[xo..xo+n) . y[yo..yo+n) with four partial sums (fewer dependent adds). */
    static float dot(float[] x, int xo, float[] y, int yo, int n) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int k = 0;
        for (; k + 3 < n; k += 4) {
            s0 += x[xo + k] * y[yo + k];
            s1 += x[xo + k + 1] * y[yo + k + 1];
            s2 += x[xo + k + 2] * y[yo + k + 2];
            s3 += x[xo + k + 3] * y[yo + k + 3];
        }
        for (; k < n; k++) s0 += x[xo + k] * y[yo + k];
        return (s0 + s1) + (s2 + s3);
    }

    interface CaptionRange {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over captions [0, batch) in two halves on two threads (the caller's and one pool thread),
     * or on the caller's thread alone when the work ({@code batch * perCaption} values) is too small to split.
     */
    /** Work (values) below which a loop stays on one thread: splitting smaller loops costs more than it saves. */
    static final long PARALLEL_THRESHOLD = 200_000;

    static void forEachCaptionRange(int batch, long perCaption, CaptionRange body) {
        if (batch * perCaption < PARALLEL_THRESHOLD || batch < 2) {
            body.run(0, batch);
            return;
        }
        int half = batch / 2;
        IntStream.range(0, 2).parallel().forEach(part -> {
            if (part == 0) body.run(0, half);
            else body.run(half, batch);
        });
    }

    // Eigen's float tanh (generic_fast_tanh_float): a 13/6 rational approximation on [-7.9, 7.9], saturated
    // outside; max abs error 3.3e-7 against Math.tanh (AttentionDecoderFloatTest). Math.tanh is ~20x slower.
    private static final float A1 = 4.89352455891786e-03f, A3 = 6.37261928875436e-04f, A5 = 1.48572235717979e-05f,
            A7 = 5.12229709037114e-08f, A9 = -8.60467152213735e-11f, A11 = 2.00018790482477e-13f, A13 = -2.76076847742355e-16f,
            B0 = 4.89352518554385e-03f, B2 = 2.26843463243900e-03f, B4 = 1.18534705686654e-04f, B6 = 1.19825839466702e-06f;
    private static final float CLAMP = 7.90531110763549805f;

    static void tanhInPlace(float[] x, int from, int to) {
        for (int i = from; i < to; i++) {
            float v = Math.max(-CLAMP, Math.min(CLAMP, x[i]));
            float v2 = v * v;
            float p = v2 * A13 + A11;
            p = v2 * p + A9;
            p = v2 * p + A7;
            p = v2 * p + A5;
            p = v2 * p + A3;
            p = v2 * p + A1;
            p = v * p;
            float q = v2 * B6 + B4;
            q = v2 * q + B2;
            q = v2 * q + B0;
            x[i] = p / q;
        }
    }

    /** sigmoid(x) = (1 + tanh(x/2)) / 2, in place (the same fast tanh). */
    static void sigmoidInPlace(float[] x, int from, int to) {
        for (int i = from; i < to; i++) x[i] *= 0.5f;
        tanhInPlace(x, from, to);
        for (int i = from; i < to; i++) x[i] = 0.5f * x[i] + 0.5f;
    }
}
