package org.captioner.eval;

import java.util.List;

/**
 * ROUGE-L as coco-caption's {@code rouge.py}: LCS over tokens split on single spaces (Python's
 * {@code split(" ")}, so an empty caption is one empty token), maximum precision and maximum recall over the
 * references taken separately, F-measure with beta = 1.2, mean over images.
 */
public final class RougeL {
    static final double BETA = 1.2;

    private RougeL() {
    }

    public static double[] perImage(List<String> hypotheses, List<List<String>> references) {
        double[] s = new double[hypotheses.size()];
        for (int i = 0; i < s.length; i++) s[i] = score(hypotheses.get(i), references.get(i));
        return s;
    }

    public static double score(String hypothesis, List<String> refs) {
        String[] c = hypothesis.split(" ", -1);
        double precMax = 0, recMax = 0;
        for (String ref : refs) {
            String[] r = ref.split(" ", -1);
            int lcs = lcs(r, c);
            precMax = Math.max(precMax, lcs / (double) c.length);
            recMax = Math.max(recMax, lcs / (double) r.length);
        }
        if (precMax == 0 || recMax == 0) return 0;
        return ((1 + BETA * BETA) * precMax * recMax) / (recMax + BETA * BETA * precMax);
    }

    static int lcs(String[] a, String[] b) {
        int[] prev = new int[b.length + 1], cur = new int[b.length + 1];
        for (String x : a) {
            for (int j = 1; j <= b.length; j++) {
                cur[j] = x.equals(b[j - 1]) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length];
    }
}
