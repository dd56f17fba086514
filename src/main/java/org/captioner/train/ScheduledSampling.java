package org.captioner.train;

import org.captioner.model.CaptionBatch;
import org.captioner.model.CaptionDecoder;
import org.captioner.text.Vocabulary;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

/**
 * Scheduled sampling (Bengio et al. 2015): during training, some input words are the model's own prediction
 * instead of the reference word, so the model learns to continue from its mistakes as it must when captioning.
 * <p>
 * The schedule is that of the common captioning codebases (neuraltalk2, ImageCaptioning.pytorch): off before
 * {@code startEpoch}; from then on the probability grows by {@code step} every {@code every} epochs up to
 * {@code max}. The mixing is the parallel (two-pass) form of Duckworth et al. 2019: a teacher-forced pass gives
 * the model's next-word distribution after every reference prefix; each input word after {@code <start>} is then
 * replaced, with the schedule's probability, by a word sampled from the distribution predicted for its position,
 * and the step trains on that mixed input (targets stay the reference). One extra forward pass per batch, and it
 * works the same for every decoder.
 *
 * @param startEpoch first epoch with sampling (0 = never)
 */
public record ScheduledSampling(int startEpoch, int every, double step, double max) {
    public static final ScheduledSampling OFF = new ScheduledSampling(0, 1, 0, 0);

    public ScheduledSampling {
        if (startEpoch < 0) throw new IllegalArgumentException("scheduled sampling start epoch must be >= 0 (0 = off)");
        if (every < 1) throw new IllegalArgumentException("scheduled sampling: 'every' must be >= 1");
        if (step < 0 || step > 1 || max < 0 || max > 1) throw new IllegalArgumentException("scheduled sampling probabilities must be in [0, 1]");
    }

    /** The probability of feeding the model's own word in this epoch (1-based). */
    public double probability(int epoch) {
        if (startEpoch == 0 || epoch < startEpoch) return 0;
        return Math.min(max, step * (1 + (epoch - startEpoch) / every));
    }

    /**
     * The batch with inputs mixed as described; {@code rng} decides which positions and which words, so a fixed
     * seed per batch gives a repeatable (and resumable) run.
     */
    public static CaptionBatch mix(CaptionDecoder decoder, CaptionBatch batch, double p, Random rng) {
        if (p <= 0) return batch;
        int n = batch.size(), steps = (int) batch.inputs().size(2);
        INDArray probs = decoder.sequenceProbabilities(batch);              // [B,V,T]: p(word at t+1 | prefix up to t)
        int v = (int) probs.size(1);
        float[] pr = probs.dup('c').data().asFloat();
        float[] in = batch.inputs().dup('c').data().asFloat();              // [B,1,T] token ids
        float[] mask = batch.mask().dup('c').data().asFloat();              // [B,T]
        boolean changed = false;
        for (int b = 0; b < n; b++) {
            for (int t = 1; t < steps; t++) {                                // position 0 is <start>
                if (mask[b * steps + t] == 0 || rng.nextDouble() >= p) continue;
                in[b * steps + t] = sample(pr, (b * v) * steps, steps, t - 1, v, rng);
                changed = true;
            }
        }
        if (!changed) return batch;
        INDArray inputs = Nd4j.create(in, new long[] {n, 1, steps}, 'c').castTo(batch.inputs().dataType());
        return new CaptionBatch(inputs, batch.targets(), batch.mask(), batch.vectors(), batch.grids(), batch.tokens());
    }

    /** Draws a word from column t of one sequence's [V,T] block, never a special token but {@code <unk>}. */
    private static int sample(float[] pr, int base, int steps, int t, int v, Random rng) {
        double total = 0;
        for (int w = Vocabulary.UNK; w < v; w++) total += pr[base + w * steps + t];
        double r = rng.nextDouble() * total;
        for (int w = Vocabulary.UNK; w < v; w++) {
            r -= pr[base + w * steps + t];
            if (r <= 0) return w;
        }
        return v - 1;
    }
}
