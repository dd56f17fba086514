package org.captioner.data;

import org.captioner.features.FeatureSet;
import org.captioner.text.Vocabulary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * The (image, caption) pairs of one split, tied to cached encoder features: every caption of every image
 * whose features exist. Images without features are counted and reported, never silently dropped.
 */
public final class TrainingSet {
    private static final Logger log = LoggerFactory.getLogger(TrainingSet.class);

    /** One training pair: feature row of the image, token ids of the caption (no start/end). */
    public record Pair(int image, int featureRow, int[] tokens) {
    }

    private final List<ImageCaptions> images;
    private final int[] featureRows;
    private final List<Pair> pairs;
    private final int truncated;

    public TrainingSet(List<ImageCaptions> images, FeatureSet features, Vocabulary vocab, int maxLength) throws IOException {
        List<ImageCaptions> kept = new ArrayList<>();
        List<Integer> rows = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (ImageCaptions ic : images) {
            int row = features.row(ic.file());
            if (row < 0) {
                missing.add(ic.file());
                continue;
            }
            kept.add(ic);
            rows.add(row);
        }
        if (!missing.isEmpty()) {
            log.warn("{} of {} images have no features in {} (skipped), e.g. {}", missing.size(), images.size(),
                    features.dir(), missing.subList(0, Math.min(3, missing.size())));
        }
        if (kept.isEmpty()) {
            throw new IOException("none of the " + images.size() + " images has features in " + features.dir()
                    + (missing.isEmpty() ? "" : " (e.g. " + missing.get(0) + ")") + "; run 'features' on their folder first");
        }
        this.images = kept;
        this.featureRows = rows.stream().mapToInt(Integer::intValue).toArray();
        List<Pair> ps = new ArrayList<>();
        int cut = 0;
        for (int i = 0; i < kept.size(); i++) {
            for (String c : kept.get(i).captions()) {
                List<String> words = Vocabulary.tokenize(c);
                if (words.size() > maxLength) cut++;
                int[] t = vocab.encode(words, maxLength);
                if (t.length > 0) ps.add(new Pair(i, featureRows[i], t));
            }
        }
        this.pairs = ps;
        this.truncated = cut;
    }

    public List<ImageCaptions> images() {
        return images;
    }

    public int featureRow(int image) {
        return featureRows[image];
    }

    public List<Pair> pairs() {
        return pairs;
    }

    /** Captions longer than the maximum length, cut (logged by the trainer). */
    public int truncatedCaptions() {
        return truncated;
    }

    /** Target tokens of one epoch: caption words plus one {@code <end>} each. */
    public long targetTokens() {
        long n = 0;
        for (Pair p : pairs) n += p.tokens().length + 1;
        return n;
    }

    /**
     * The epoch's batches, in an order fixed by (seed, epoch): pairs are shuffled, grouped into chunks of 50
     * batches, sorted by length inside each chunk (less padding), cut into batches, and the batches shuffled.
     */
    public List<List<Pair>> batches(int batchSize, long seed, int epoch) {
        Random rnd = new Random(seed * 1_000_003L + epoch);
        List<Pair> order = new ArrayList<>(pairs);
        Collections.shuffle(order, rnd);
        List<List<Pair>> out = new ArrayList<>();
        int chunk = batchSize * 50;
        for (int s = 0; s < order.size(); s += chunk) {
            List<Pair> c = new ArrayList<>(order.subList(s, Math.min(order.size(), s + chunk)));
            c.sort(Comparator.comparingInt(p -> p.tokens().length));
            for (int b = 0; b < c.size(); b += batchSize) out.add(c.subList(b, Math.min(c.size(), b + batchSize)));
        }
        Collections.shuffle(out, rnd);
        return out;
    }
}
