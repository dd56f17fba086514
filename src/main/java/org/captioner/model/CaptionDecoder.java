package org.captioner.model;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A caption language model conditioned on an image. Training sees whole captions (teacher forcing);
 * decoding drives it one word at a time through {@link #start} and {@link #step}.
 */
public interface CaptionDecoder {
    DecoderConfig config();

    /** One optimisation step on a batch; returns the mean cross-entropy per target token. */
    double fit(CaptionBatch batch);

    /**
     * One optimisation step on {@code sum_{i,t} weights[i*T + t] * -log p(target_it)} (caption-major, one weight per
     * step; padding steps ignored), without dropout, with the same clipping and optimiser as {@link #fit}: the
     * policy-gradient step of self-critical training, where a caption's weights are its advantage over its length.
     * Returns that weighted loss.
     */
    double fitWeighted(CaptionBatch batch, float[] weights);

    /** Mean cross-entropy per target token without updating (for validation). */
    double loss(CaptionBatch batch);

    /**
     * Probabilities of each next word after every prefix step, teacher-forced: [B, V, T].
     * Used to check that whole-sequence and step-by-step computations agree.
     */
    INDArray sequenceProbabilities(CaptionBatch batch);

    /** Begins decoding N sequences: vectors [N, D], grids [N, cells, C] or null. */
    DecodingState start(INDArray vectors, INDArray grids);

    /**
     * Feeds one token per sequence and returns next-word probabilities [N, V]; the state advances.
     * For attention decoders the state also records this step's attention weights.
     */
    INDArray step(DecodingState state, int[] tokens);

    void setLearningRate(double lr);

    double learningRate();

    /** Saves parameters (and optimizer state when {@code withUpdater}) atomically. */
    void save(Path file, boolean withUpdater) throws IOException;

    long parameterCount();

    /** Frees the parameters' native memory (and the optimizer's); the decoder is unusable afterwards. */
    default void close() {
    }
}
