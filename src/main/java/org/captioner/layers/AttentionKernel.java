package org.captioner.layers;

import java.util.stream.IntStream;

/**
 * The inner loops of additive attention ({@link AdditiveAttention}) in float, on plain Java arrays: the part of a
 * training step that touches one value per (caption, grid cell, attention unit), 64 x 49 x 256 = 0.8 M per step, and
 * the context sum over the grid (64 x 49 x 1,280). As separate ND4J ops (broadcast add, tanh, matrix-vector product,
 * then five element-wise ops and a reduction over cells going back) the scores took ~95 ms a step, mostly allocation
 * of [B*L, A] temporaries and ND4J's scalar tanh; fused here into one pass forward and one backward they take ~5 ms.
 * Loops are written in the shapes HotSpot vectorises, and split over captions on two threads so per-caption
 * accumulators are never shared.
 * <p>Rows are image-major: row {@code b * L + cell} of the [B*L, A] matrices; caption b reads the projected grid of
 * image {@code image[b]} ([M*L, A]), so the beams of one image share its grid instead of each carrying a copy.
 */
final class AttentionKernel {
    private final int cells, batch, units;
    private final float[] proj;   // [M*L, A]  a_i W_a (read only)
    private final float[] w;      // [A]       w_att
    private final int[] image;    // caption -> image row of proj, or null: caption b is image b

    AttentionKernel(float[] proj, int[] image, float[] w, int cells, int batch, int units) {
        this.proj = proj;
        this.image = image;
        this.w = w;
        this.cells = cells;
        this.batch = batch;
        this.units = units;
    }

    /**
     * act = tanh(proj + hAtt broadcast over cells) [B*L, A], kept in {@code keep} for the backward pass when not
     * null (else each row goes through one reused [A] buffer); returns e = act . w [B*L].
     */
    float[] scores(float[] hAtt, float[] keep) {
        float[] e = new float[cells * batch];
        forEachCaptionRange(batch, (long) cells * units, (b0, b1) -> {
            float[] act = keep != null ? keep : new float[units];
            for (int b = b0; b < b1; b++) {
                int ho = b * units, img = image == null ? b : image[b];
                for (int l = 0; l < cells; l++) {
                    int r = b * cells + l, po = (img * cells + l) * units, o = keep != null ? r * units : 0;
                    for (int k = 0; k < units; k++) act[o + k] = proj[po + k] + hAtt[ho + k];  // [A] pre-activation
                    tanhInPlace(act, o, o + units);
                    e[r] = dot(act, o, w, 0, units);                                           // e_ti = w . act
                }
            }
        });
        return e;
    }

    /**
     * Backward of e = w . tanh(proj + hAtt) given de [B*L] (training: image b = caption b): adds d(proj) into {@code dProj} [B*L, A]
     * and d(w) into {@code dw} [A]; returns d(hAtt) [B, A] (summed over cells).
     */
    float[] backward(float[] act, float[] de, float[] dProj, float[] dw) {
        float[] dHAtt = new float[batch * units];
        float[][] dwPart = new float[2][units];
        forEachCaptionRange(batch, (long) cells * units, (b0, b1) -> {
            float[] dwLocal = dwPart[b0 == 0 ? 0 : 1];
            float[] pre = new float[units];
            for (int b = b0; b < b1; b++) {
                for (int l = 0; l < cells; l++) {
                    int r = b * cells + l, o = r * units, ho = b * units;
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

    /** ctx[b] = sum_i alpha[b,i] grid[image[b],i,:]: grid [M,L,C], alpha [B,L] -> [B,C] (image null: image b). */
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

    /** dGrid[b,i,:] += r[b,i] dCtx[b,:]: the backward of {@link #context} for the grid (training: image b = caption b). */
    static void addContextGridGradient(float[] dGrid, float[] r, float[] dCtx, int batch, int cells, int channels) {
        forEachCaptionRange(batch, (long) cells * channels, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                for (int i = 0; i < cells; i++) {
                    float w = r[b * cells + i];
                    if (w == 0f) continue;
                    int go = (b * cells + i) * channels, co = b * channels;
                    for (int k = 0; k < channels; k++) dGrid[go + k] += w * dCtx[co + k];
                }
            }
        });
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

    /** Work (values) below which a loop stays on one thread: splitting smaller loops costs more than it saves. */
    static final long PARALLEL_THRESHOLD = 200_000;

    /**
     * Runs {@code body} over captions [0, batch) in two halves on two threads (the caller's and one pool thread),
     * or on the caller's thread alone when the work ({@code batch * perCaption} values) is too small to split.
     */
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
    // outside; max abs error 3.3e-7 against Math.tanh (AttentionKernelTest). Math.tanh is ~20x slower.
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
}
