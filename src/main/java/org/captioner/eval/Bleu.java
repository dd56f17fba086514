package org.captioner.eval;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BLEU-1..4 exactly as coco-caption's {@code bleu_scorer.py} with {@code option='closest'}: per image the
 * reference length closest to the hypothesis length (ties to the shorter); corpus-level sums of clipped
 * n-gram matches and guesses; {@code (C_k + 1e-15) / (G_k + 1e-9)}; brevity penalty {@code exp(1 - 1/r)}
 * with {@code r = (testlen + 1e-15) / (reflen + 1e-9)} when r < 1; no smoothing.
 */
public final class Bleu {
    static final int N = 4;
    private static final double TINY = 1e-15, SMALL = 1e-9;

    /** Corpus scores, per-image scores, and the corpus statistics (for checking against the reference). */
    public record Result(double[] corpus, double[][] perImage, long testlen, long reflen, long[] guess, long[] correct) {
    }

    private Bleu() {
    }

    public static Result score(List<String> hypotheses, List<List<String>> references) {
        int m = hypotheses.size();
        double[][] perImage = new double[N][m];
        long testlenSum = 0, reflenSum = 0;
        long[] guess = new long[N], correct = new long[N];
        for (int img = 0; img < m; img++) {
            // cook_refs: lengths and max count of each n-gram over the references
            List<String> refs = references.get(img);
            int[] reflens = new int[refs.size()];
            Map<String, Integer> maxRef = new HashMap<>();
            for (int r = 0; r < refs.size(); r++) {
                String[] w = NGrams.words(refs.get(r));
                reflens[r] = w.length;
                NGrams.count(w, N).forEach((g, c) -> maxRef.merge(g, c, Math::max));
            }
            // cook_test
            String[] hw = NGrams.words(hypotheses.get(img));
            int testlen = hw.length;
            int reflen = closest(reflens, testlen);
            long[] g = new long[N], c = new long[N];
            for (int k = 0; k < N; k++) g[k] = Math.max(0, testlen - k);
            for (Map.Entry<String, Integer> e : NGrams.count(hw, N).entrySet()) {
                c[NGrams.order(e.getKey()) - 1] += Math.min(maxRef.getOrDefault(e.getKey(), 0), e.getValue());
            }
            testlenSum += testlen;
            reflenSum += reflen;
            double bleu = 1;
            for (int k = 0; k < N; k++) {
                guess[k] += g[k];
                correct[k] += c[k];
                bleu *= (c[k] + TINY) / (g[k] + SMALL);
                perImage[k][img] = Math.pow(bleu, 1.0 / (k + 1));
            }
            double ratio = (testlen + TINY) / (reflen + SMALL);
            if (ratio < 1) for (int k = 0; k < N; k++) perImage[k][img] *= Math.exp(1 - 1 / ratio);
        }
        double[] corpus = new double[N];
        double bleu = 1;
        for (int k = 0; k < N; k++) {
            bleu *= (correct[k] + TINY) / (guess[k] + SMALL);
            corpus[k] = Math.pow(bleu, 1.0 / (k + 1));
        }
        double ratio = (testlenSum + TINY) / (reflenSum + SMALL);
        if (ratio < 1) for (int k = 0; k < N; k++) corpus[k] *= Math.exp(1 - 1 / ratio);
        return new Result(corpus, perImage, testlenSum, reflenSum, guess, correct);
    }

    /** min over (|l - testlen|, l): closest reference length, ties to the shorter. */
    static int closest(int[] reflens, int testlen) {
        int best = reflens[0];
        for (int l : reflens) {
            int d = Math.abs(l - testlen), bd = Math.abs(best - testlen);
            if (d < bd || (d == bd && l < best)) best = l;
        }
        return best;
    }
}
