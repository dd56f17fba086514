package org.captioner.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * Sparsemax (Martins and Astudillo, ICML 2016): the Euclidean projection of a score vector onto the probability
 * simplex, {@code p_i = max(e_i - tau, 0)} with tau chosen so that the p sum to 1. Unlike softmax it gives cells
 * whose score is far enough below the best exactly zero weight, so an attention map covers the cells it uses and
 * no others. Written by hand: ND4J 1.0.0-M2.1 has no sparsemax op (forward is a sort and a scan, backward three lines).
 */
public final class Sparsemax {
    private Sparsemax() {
    }

    /** p = sparsemax(z), both [n]. */
    static void forward(double[] z, double[] p) {
        int n = z.length;
        double[] s = z.clone();
        Arrays.sort(s);                                                // ascending; walk from the top
        double cum = 0, tau = s[n - 1] - 1;
        for (int j = n - 1; j >= 0; j--) {
            int rank = n - j;                                          // 1-based rank of s[j] from the top
            cum += s[j];
            if (1 + rank * s[j] > cum) tau = (cum - 1) / rank;         // s[j] is in the support
            else break;
        }
        for (int i = 0; i < n; i++) p[i] = Math.max(z[i] - tau, 0);
    }

    /** de = J^T dp for p = sparsemax(e): on the support S (p > 0) de_i = dp_i - mean_{j in S} dp_j, elsewhere 0. */
    static void backward(double[] p, double[] dp, double[] de) {
        double sum = 0;
        int support = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                sum += dp[i];
                support++;
            }
        }
        double mean = support == 0 ? 0 : sum / support;
        for (int i = 0; i < p.length; i++) de[i] = p[i] > 0 ? dp[i] - mean : 0;
    }

    /** p[po + i] = sparsemax(e[eo + i*eStride]) for i in [0, n): the float loops' layout. */
    static void forward(float[] e, int eo, int eStride, float[] p, int po, int n) {
        double[] z = new double[n], q = new double[n];
        for (int i = 0; i < n; i++) z[i] = e[eo + i * eStride];
        forward(z, q);
        for (int i = 0; i < n; i++) p[po + i] = (float) q[i];
    }

    /** de[deo + i*deStride] = backward of p[o..o+n) given dp[o..o+n). */
    static void backward(float[] p, float[] dp, int o, int n, float[] de, int deo, int deStride) {
        double[] pp = new double[n], d = new double[n], out = new double[n];
        for (int i = 0; i < n; i++) {
            pp[i] = p[o + i];
            d[i] = dp[o + i];
        }
        backward(pp, d, out);
        for (int i = 0; i < n; i++) de[deo + i * deStride] = (float) out[i];
    }

    /** Row-wise sparsemax of [B,L] scores, in their data type (the reference pass, in double for gradient checks). */
    static INDArray rows(INDArray e) {
        INDArray out = e.ulike();
        int n = (int) e.size(1);
        double[] z = new double[n], p = new double[n];
        for (int b = 0; b < e.size(0); b++) {
            for (int i = 0; i < n; i++) z[i] = e.getDouble(b, i);
            forward(z, p);
            for (int i = 0; i < n; i++) out.putScalar(b, i, p[i]);
        }
        return out;
    }

    /** Row-wise backward of {@link #rows}: p, dp [B,L] -> de [B,L]. */
    static INDArray rowsBackward(INDArray p, INDArray dp) {
        INDArray out = p.ulike();
        int n = (int) p.size(1);
        double[] pp = new double[n], d = new double[n], de = new double[n];
        for (int b = 0; b < p.size(0); b++) {
            for (int i = 0; i < n; i++) {
                pp[i] = p.getDouble(b, i);
                d[i] = dp.getDouble(b, i);
            }
            backward(pp, d, de);
            for (int i = 0; i < n; i++) out.putScalar(b, i, de[i]);
        }
        return out;
    }
}
