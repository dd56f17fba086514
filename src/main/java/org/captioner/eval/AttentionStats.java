package org.captioner.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * How focused an attention model's per-word weights are, against uniform attention over the same grid:
 * the entropy {@code -sum_i p_i ln p_i} of each word's distribution over the L cells (uniform: ln L), and
 * its largest weight (uniform: 1/L). Every generated word counts, the final {@code <end>} step too.
 */
public final class AttentionStats {
    private final int cells;
    private double entropySum, maxSum;
    private long words;
    private final List<double[]> byPosition = new ArrayList<>(); // [entropy sum, count]

    public AttentionStats(int cells) {
        if (cells < 1) throw new IllegalArgumentException("cells must be >= 1");
        this.cells = cells;
    }

    /** Adds one caption's attention: one array of L weights per generated word. */
    public void add(List<float[]> perWord) {
        for (int k = 0; k < perWord.size(); k++) {
            float[] p = perWord.get(k);
            if (p.length != cells) throw new IllegalArgumentException("attention over " + p.length + " cells, expected " + cells);
            double h = entropy(p), max = 0;
            for (float x : p) max = Math.max(max, x);
            entropySum += h;
            maxSum += max;
            words++;
            while (byPosition.size() <= k) byPosition.add(new double[2]);
            byPosition.get(k)[0] += h;
            byPosition.get(k)[1]++;
        }
    }

    public static double entropy(float[] p) {
        double h = 0;
        for (float x : p) if (x > 0) h -= x * Math.log(x);
        return h;
    }

    public long words() {
        return words;
    }

    public int cells() {
        return cells;
    }

    public double meanEntropy() {
        return words == 0 ? Double.NaN : entropySum / words;
    }

    public double meanMaxWeight() {
        return words == 0 ? Double.NaN : maxSum / words;
    }

    public double uniformEntropy() {
        return Math.log(cells);
    }

    public double uniformMaxWeight() {
        return 1.0 / cells;
    }

    /** Mean entropy at word position k (0 = first word), or NaN where no caption is that long. */
    public double meanEntropyAt(int k) {
        if (k >= byPosition.size() || byPosition.get(k)[1] == 0) return Double.NaN;
        return byPosition.get(k)[0] / byPosition.get(k)[1];
    }

    public int positions() {
        return byPosition.size();
    }
}
