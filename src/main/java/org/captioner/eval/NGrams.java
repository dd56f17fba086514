package org.captioner.eval;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** n-gram counting shared by BLEU and CIDEr-D (coco-caption's {@code precook}). */
final class NGrams {
    private NGrams() {
    }

    /** Python's {@code s.split()}: runs of whitespace separate, no empty tokens. */
    static String[] words(String s) {
        String t = s.strip();
        return t.isEmpty() ? new String[0] : t.split("\\s+");
    }

    /** Counts of all 1..n-grams; an n-gram is its words joined by a single space (words contain no spaces). */
    static Map<String, Integer> count(String[] words, int n) {
        Map<String, Integer> counts = new HashMap<>();
        for (int k = 1; k <= n; k++) {
            for (int i = 0; i + k <= words.length; i++) {
                counts.merge(String.join(" ", List.of(words).subList(i, i + k)), 1, Integer::sum);
            }
        }
        return counts;
    }

    static int order(String ngram) {
        int n = 1;
        for (int i = 0; i < ngram.length(); i++) if (ngram.charAt(i) == ' ') n++;
        return n;
    }
}
