package org.captioner.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CIDEr-D exactly as coco-caption's {@code cider_scorer.py}: n = 1..4, document frequency over the
 * evaluated set's references, {@code idf = log(N) - log(max(1, df))}, tf-idf vectors per n, clipped
 * similarity {@code min(hyp, ref) * ref / (|hyp| |ref|)}, Gaussian length penalty with sigma = 6, mean over
 * n, divided by the number of references, times 10, mean over images.
 *
 * <p>Faithful quirk: the "length" in the penalty is the count of bigrams ({@code if n == 1: length +=
 * term_freq} in the reference), i.e. words - 1; with one image, log(N) = 0 and every score is 0.
 */
public final class CiderD {
    static final int N = 4;
    static final double SIGMA = 6.0;

    private CiderD() {
    }

    private record Vec(List<Map<String, Double>> vec, double[] norm, int length) {
    }

    /** Each hypothesis against its image's references, document frequencies over the evaluated set's references. */
    public static double[] perImage(List<String> hypotheses, List<List<String>> references) {
        Corpus corpus = new Corpus(references, false);
        double[] scores = new double[hypotheses.size()];
        for (int i = 0; i < scores.length; i++) scores[i] = corpus.score(i, hypotheses.get(i));
        return scores;
    }

    /**
     * CIDEr-D against fixed corpus statistics: document frequencies counted once over the references of a set of
     * images (for self-critical training, the training set's, as ImageCaptioning.pytorch does), each image's
     * reference vectors computed once, then any number of candidates scored against one image's references. With the
     * statistics of the evaluated set itself, {@link #score} gives the numbers of {@link #perImage}.
     */
    public static final class Corpus {
        private final Map<String, Double> df = new HashMap<>();
        private final double refLen;
        private final List<List<Vec>> refs = new ArrayList<>();

        /** {@code references.get(i)}: the reference captions of image i (at least 2 images: with one, every score is 0). */
        public Corpus(List<List<String>> references) {
            this(references, true);
        }

        private Corpus(List<List<String>> references, boolean atLeastTwo) {
            if (atLeastTwo && references.size() < 2) throw new IllegalArgumentException("CIDEr-D needs the references of at least 2 images");
            List<List<Map<String, Integer>>> counts = new ArrayList<>();
            for (List<String> rs : references) {
                List<Map<String, Integer>> cs = new ArrayList<>();
                Set<String> seen = new HashSet<>();
                for (String r : rs) {
                    Map<String, Integer> c = NGrams.count(NGrams.words(r), N);
                    cs.add(c);
                    seen.addAll(c.keySet());
                }
                counts.add(cs);
                for (String g : seen) df.merge(g, 1.0, Double::sum);
            }
            refLen = Math.log(references.size());
            for (List<Map<String, Integer>> cs : counts) {
                List<Vec> vs = new ArrayList<>(cs.size());
                for (Map<String, Integer> c : cs) vs.add(toVec(c, df, refLen));
                refs.add(vs);
            }
        }

        public int images() {
            return refs.size();
        }

        /** CIDEr-D of {@code hypothesis} against the references of image {@code image}. */
        public double score(int image, String hypothesis) {
            Vec hyp = toVec(NGrams.count(NGrams.words(hypothesis), N), df, refLen);
            double[] score = new double[N];
            List<Vec> rs = refs.get(image);
            for (Vec ref : rs) {
                double[] s = sim(hyp, ref);
                for (int n = 0; n < N; n++) score[n] += s[n];
            }
            double mean = 0;
            for (double v : score) mean += v;
            return mean / N / rs.size() * 10.0;
        }
    }

    private static Vec toVec(Map<String, Integer> counts, Map<String, Double> df, double refLen) {
        List<Map<String, Double>> vec = new ArrayList<>(N);
        for (int n = 0; n < N; n++) vec.add(new HashMap<>());
        double[] norm = new double[N];
        int length = 0;
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            double d = Math.log(Math.max(1.0, df.getOrDefault(e.getKey(), 0.0)));
            int n = NGrams.order(e.getKey()) - 1;
            double v = e.getValue() * (refLen - d);
            vec.get(n).put(e.getKey(), v);
            norm[n] += v * v;
            if (n == 1) length += e.getValue();
        }
        for (int n = 0; n < N; n++) norm[n] = Math.sqrt(norm[n]);
        return new Vec(vec, norm, length);
    }

    private static double[] sim(Vec hyp, Vec ref) {
        double delta = hyp.length() - ref.length();
        double[] val = new double[N];
        for (int n = 0; n < N; n++) {
            Map<String, Double> r = ref.vec().get(n);
            for (Map.Entry<String, Double> e : hyp.vec().get(n).entrySet()) {
                double rv = r.getOrDefault(e.getKey(), 0.0);
                val[n] += Math.min(e.getValue(), rv) * rv;
            }
            if (hyp.norm()[n] != 0 && ref.norm()[n] != 0) val[n] /= hyp.norm()[n] * ref.norm()[n];
            val[n] *= Math.exp(-(delta * delta) / (2 * SIGMA * SIGMA));
        }
        return val;
    }
}
