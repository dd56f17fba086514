package org.captioner.decode;

import org.captioner.model.CaptionDecoder;
import org.captioner.model.DecodingState;
import org.captioner.text.Vocabulary;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * Generates captions for a batch of images with a decoder: beam search (greedy is beam 1) over all images
 * at once, or sampling. The decoder runs on k rows per image still searching; the search bookkeeping is plain Java.
 * {@code <pad>}, {@code <start>} and (unless allowed) {@code <unk>} are never generated.
 */
public final class CaptionSearch {
    private final CaptionDecoder decoder;
    /** Token ids after which beam search may not end a caption (function words), or null for no such rule. */
    private final boolean[] noEndAfter;

    /** Searches without word-level rules (for decoders without a vocabulary at hand, as in tests). */
    public CaptionSearch(CaptionDecoder decoder) {
        this(decoder, null);
    }

    /**
     * Searches with the vocabulary's rule that a caption does not end on a function word ("... with a"): beam search
     * (greedy included) never puts {@code <end>} after one, except at the maximum length. Self-critical training
     * and cross-entropy models alike produce such endings now and then (ImageCaptioning.pytorch removes them the
     * same way, its {@code --remove_bad_endings}); sampling is left as the model's distribution.
     */
    public CaptionSearch(CaptionDecoder decoder, Vocabulary vocab) {
        this.decoder = decoder;
        if (vocab == null) {
            this.noEndAfter = null;
        } else {
            this.noEndAfter = new boolean[vocab.size()];
            for (String w : Vocabulary.FUNCTION_WORDS) {
                int id = vocab.id(w);
                if (id != Vocabulary.UNK) noEndAfter[id] = true;
            }
        }
    }

    /** Returns, per image, its n-best hypotheses, best first. */
    public List<List<Hypothesis>> generate(INDArray vectors, INDArray grids, DecodeOptions o) {
        return o.sample() ? sample(vectors, grids, o) : beam(vectors, grids, o);
    }

    private record Beam(int[] tokens, double logProb, List<float[]> attention) {
    }

    private static final int[] NONE = {};

    /** The words that would repeat a trigram of {@code t}: those that followed its last two words before. */
    static int[] repeatingWords(int[] t) {
        int n = t.length, found = 0;
        if (n < 3) return NONE;
        int[] w = new int[n];
        for (int p = 0; p + 2 < n; p++) if (t[p] == t[n - 2] && t[p + 1] == t[n - 1]) w[found++] = t[p + 2];
        return Arrays.copyOf(w, found);
    }

    private static boolean contains(int[] a, int x) {
        for (int y : a) if (y == x) return true;
        return false;
    }

    private List<List<Hypothesis>> beam(INDArray vectors, INDArray grids, DecodeOptions o) {
        int b = (int) vectors.size(0), k = o.beam(), v = decoder.config().vocabSize();
        // Every image starts with k copies of its state; only copy 0 is live at step 0 (the others start at -inf).
        int[] rep = new int[b * k];
        for (int i = 0; i < b * k; i++) rep[i] = i / k;
        DecodingState state = decoder.start(vectors, grids).select(rep);
        List<List<Beam>> live = new ArrayList<>();
        List<PriorityQueue<Hypothesis>> done = new ArrayList<>();
        Comparator<Hypothesis> worstFirst = Comparator.comparingDouble(h -> h.normalizedScore(o.lengthAlpha()));
        for (int i = 0; i < b; i++) {
            List<Beam> l = new ArrayList<>();
            for (int j = 0; j < k; j++) l.add(new Beam(new int[0], j == 0 ? 0 : Double.NEGATIVE_INFINITY, List.of()));
            live.add(l);
            done.add(new PriorityQueue<>(worstFirst));
        }
        int[] feed = new int[b * k];
        Arrays.fill(feed, Vocabulary.START);
        // The images still searching, in row-block order: block a (rows a*k .. a*k+k-1) is image active[a]. Finished
        // images leave the batch, so the decoder's steps shrink as captions end instead of running every image to
        // the longest caption of its batch.
        int[] active = new int[b];
        for (int i = 0; i < b; i++) active[i] = i;
        for (int step = 0; step <= o.maxLength(); step++) {
            INDArray probs = decoder.step(state, feed);                       // [A*k, V]
            INDArray att = state.lastAttention();                             // [A*k, cells] or null
            float[] p = probs.dup('c').data().asFloat();
            // this step's attention maps in one copy (a row per beam), sliced below for the beams that go on
            float[] maps = att == null ? null : att.dup('c').data().asFloat();
            int cells = att == null ? 0 : (int) att.size(1);
            int[] parents = new int[active.length * k];
            int[] nextFeed = new int[active.length * k];
            int[] stillActive = new int[active.length];
            int kept = 0;
            for (int a = 0; a < active.length; a++) {
                int i = active[a];
                // Candidates: (row within image, word) with the best total log-probabilities.
                PriorityQueue<double[]> cand = new PriorityQueue<>(Comparator.comparingDouble(c -> c[0]));
                for (int j = 0; j < k; j++) {
                    Beam bm = live.get(i).get(j);
                    if (bm.logProb() == Double.NEGATIVE_INFINITY) continue;
                    int row = a * k + j;
                    boolean mayEnd = step > 0 && (noEndAfter == null || step == o.maxLength()
                            || !noEndAfter[bm.tokens()[bm.tokens().length - 1]]);   // no empty captions, no "... with a"
                    int[] blocked = o.blockTrigrams() ? repeatingWords(bm.tokens()) : NONE;
                    for (int w = Vocabulary.END; w < v; w++) {
                        if (w == Vocabulary.UNK && !o.allowUnk()) continue;
                        if (blocked.length > 0 && contains(blocked, w)) continue;
                        if (w == Vocabulary.END && !mayEnd) continue;
                        if (w != Vocabulary.END && step == o.maxLength()) continue; // must end now
                        double s = bm.logProb() + Math.log(Math.max(p[row * v + w], 1e-30f));
                        if (cand.size() < 2 * k) cand.add(new double[] {s, j, w});
                        else if (s > cand.peek()[0]) {
                            cand.poll();
                            cand.add(new double[] {s, j, w});
                        }
                    }
                }
                List<double[]> best = new ArrayList<>(cand);
                best.sort((x, y) -> Double.compare(y[0], x[0]));
                List<Beam> next = new ArrayList<>();
                int base = kept * k;                                          // this image's block in the next step
                for (double[] c : best) {
                    int j = (int) c[1], w = (int) c[2];
                    Beam parent = live.get(i).get(j);
                    List<float[]> at = parent.attention();
                    if (maps != null) {
                        at = new ArrayList<>(at);
                        at.add(Arrays.copyOfRange(maps, (a * k + j) * cells, (a * k + j + 1) * cells));
                    }
                    if (w == Vocabulary.END) {
                        PriorityQueue<Hypothesis> q = done.get(i);
                        q.add(new Hypothesis(parent.tokens(), c[0], at));
                        if (q.size() > o.nbest()) q.poll();
                    } else if (next.size() < k) {
                        int[] t = Arrays.copyOf(parent.tokens(), parent.tokens().length + 1);
                        t[t.length - 1] = w;
                        parents[base + next.size()] = a * k + j;
                        nextFeed[base + next.size()] = w;
                        next.add(new Beam(t, c[0], at));
                    }
                }
                // Stop an image once its n-best are finished and no live beam, scored as if it ended now, beats the
                // worst of them. With alpha 0 that is exact (log-probabilities only fall as words are added). With
                // alpha > 0 a longer caption's logP / len^alpha can still rise, so it is the heuristic of HF
                // transformers' beam search (early_stopping=False): without it every image ran to the maximum length;
                // on the 1,000 Flickr8k dev images (default model, beam 3, alpha 1) it changed 37 captions and dev
                // CIDEr-D from 0.4756 to 0.4752 (BLEU-4 0.1984 -> 0.2001).
                PriorityQueue<Hypothesis> q = done.get(i);
                double bestLive = Double.NEGATIVE_INFINITY;
                for (Beam bm : next) bestLive = Math.max(bestLive, new Hypothesis(bm.tokens(), bm.logProb(), List.of()).normalizedScore(o.lengthAlpha()));
                boolean finished = next.isEmpty() || q.size() >= o.nbest() && bestLive <= q.peek().normalizedScore(o.lengthAlpha());
                if (finished) {
                    live.set(i, List.of());
                    continue;                                                 // its rows leave the batch
                }
                while (next.size() < k) {                                     // dead rows keep the block k wide
                    parents[base + next.size()] = a * k;
                    nextFeed[base + next.size()] = Vocabulary.END;
                    next.add(new Beam(new int[0], Double.NEGATIVE_INFINITY, List.of()));
                }
                live.set(i, next);
                stillActive[kept++] = i;
            }
            if (kept == 0) break;
            active = Arrays.copyOf(stillActive, kept);
            state = state.select(Arrays.copyOf(parents, kept * k));
            feed = Arrays.copyOf(nextFeed, kept * k);
        }
        List<List<Hypothesis>> out = new ArrayList<>();
        for (PriorityQueue<Hypothesis> q : done) {
            List<Hypothesis> l = new ArrayList<>(q);
            l.sort((x, y) -> Double.compare(y.normalizedScore(o.lengthAlpha()), x.normalizedScore(o.lengthAlpha())));
            out.add(l);
        }
        return out;
    }

    private List<List<Hypothesis>> sample(INDArray vectors, INDArray grids, DecodeOptions o) {
        int b = (int) vectors.size(0), v = decoder.config().vocabSize();
        int n = o.nbest();
        int[] rep = new int[b * n];
        for (int i = 0; i < rep.length; i++) rep[i] = i / n;
        DecodingState state = decoder.start(vectors, grids).select(rep);
        Random rnd = new Random(o.seed());
        int rows = b * n;
        List<List<Integer>> toks = new ArrayList<>();
        List<List<float[]>> atts = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            toks.add(new ArrayList<>());
            atts.add(new ArrayList<>());
        }
        double[] logp = new double[rows];
        boolean[] ended = new boolean[rows];
        int[] feed = new int[rows];
        Arrays.fill(feed, Vocabulary.START);
        for (int step = 0; step <= o.maxLength(); step++) {
            float[] p = decoder.step(state, feed).dup('c').data().asFloat();
            INDArray att = state.lastAttention();
            boolean any = false;
            for (int r = 0; r < rows; r++) {
                if (ended[r]) continue;
                double[] w = new double[v];
                for (int j = Vocabulary.END; j < v; j++) {
                    if (j == Vocabulary.UNK && !o.allowUnk()) continue;
                    if (j == Vocabulary.END && step == 0) continue;
                    if (j != Vocabulary.END && step == o.maxLength()) continue;
                    w[j] = Math.exp(Math.log(Math.max(p[r * v + j], 1e-30f)) / o.temperature());
                }
                if (o.topK() > 0) {
                    double[] sorted = w.clone();
                    Arrays.sort(sorted);
                    double cut = sorted[Math.max(0, v - o.topK())];
                    for (int j = 0; j < v; j++) if (w[j] < cut) w[j] = 0;
                }
                double sum = 0;
                for (double x : w) sum += x;
                double u = rnd.nextDouble() * sum;
                int pick = Vocabulary.END;
                for (int j = 0; j < v; j++) {
                    u -= w[j];
                    if (w[j] > 0 && u <= 0) {
                        pick = j;
                        break;
                    }
                }
                logp[r] += Math.log(Math.max(p[r * v + pick], 1e-30f));
                if (att != null) atts.get(r).add(att.getRow(r).toFloatVector());
                if (pick == Vocabulary.END) ended[r] = true;
                else {
                    toks.get(r).add(pick);
                    any = true;
                }
                feed[r] = pick;
            }
            if (!any) break;
        }
        List<List<Hypothesis>> out = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            List<Hypothesis> l = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                int r = i * n + j;
                l.add(new Hypothesis(toks.get(r).stream().mapToInt(Integer::intValue).toArray(), logp[r], atts.get(r)));
            }
            l.sort((x, y) -> Double.compare(y.logProb(), x.logProb()));
            out.add(l);
        }
        return out;
    }
}
