package org.captioner.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores of a set of captions: corpus-level headline figures and per-image scores, in the metric names
 * coco-caption reports (BLEU-1..4, ROUGE-L, CIDEr-D).
 */
public record Scores(List<String> imageKeys, Map<String, Double> corpus, Map<String, double[]> perImage) {
    public static final List<String> METRICS = List.of("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-L", "CIDEr-D");

    public double get(String metric) {
        return corpus.get(metric);
    }

    public int images() {
        return imageKeys.size();
    }

    /** Scores already-tokenized captions (lower-case, space-separated). */
    public static Scores ofTokenized(List<String> keys, List<String> hypotheses, List<List<String>> references) {
        if (hypotheses.isEmpty()) throw new IllegalArgumentException("nothing to score: no image has both a result and references");
        Bleu.Result bleu = Bleu.score(hypotheses, references);
        double[] rouge = RougeL.perImage(hypotheses, references);
        double[] cider = CiderD.perImage(hypotheses, references);
        Map<String, Double> corpus = new LinkedHashMap<>();
        Map<String, double[]> per = new LinkedHashMap<>();
        for (int k = 0; k < Bleu.N; k++) {
            corpus.put("BLEU-" + (k + 1), bleu.corpus()[k]);
            per.put("BLEU-" + (k + 1), bleu.perImage()[k]);
        }
        corpus.put("ROUGE-L", mean(rouge));
        per.put("ROUGE-L", rouge);
        corpus.put("CIDEr-D", mean(cider));
        per.put("CIDEr-D", cider);
        return new Scores(keys, corpus, per);
    }

    /** Tokenizes with the PTB tokenizer (as coco-caption does for both sides), then scores. */
    public static Scores of(List<String> keys, List<String> rawHypotheses, List<List<String>> rawReferences) {
        List<List<String>> groups = new java.util.ArrayList<>(List.of(rawHypotheses));
        groups.addAll(rawReferences);
        List<List<String>> tok = PtbTokenizer.tokenizeGroups(groups);           // one tokenizer pass for both sides
        return ofTokenized(keys, tok.get(0), tok.subList(1, tok.size()));
    }

    static double mean(double[] xs) {
        double s = 0;
        for (double x : xs) s += x;
        return xs.length == 0 ? 0 : s / xs.length;
    }
}
