package org.captioner.train;

import org.captioner.model.AttentionMap;
import org.captioner.model.DecoderType;

import java.nio.file.Path;

/** Everything that determines a training run; recorded in the model's provenance. */
public record TrainOptions(DecoderType decoder, Path out, int epochs, int batchSize, double learningRate, double lrDecay,
                           int patience, int minCount, int maxLength, long seed, int checkpointEvery, int devBeam,
                           int embedSize, int hidden, double dropout, int limitTrainImages, int limitDevImages,
                           double attentionLambda, ScheduledSampling scheduledSampling, AttentionMap attentionMap,
                           ScstOptions scst, int layers, int contextProjection) {
    /** Adam's learning rate for cross-entropy training, and for self-critical fine-tuning (the recipe's; {@code train --lr}). */
    public static final double DEFAULT_LEARNING_RATE = 4e-4, DEFAULT_SCST_LEARNING_RATE = 2e-5;

    /** No context projection. */
    public TrainOptions(DecoderType decoder, Path out, int epochs, int batchSize, double learningRate, double lrDecay,
                        int patience, int minCount, int maxLength, long seed, int checkpointEvery, int devBeam,
                        int embedSize, int hidden, double dropout, int limitTrainImages, int limitDevImages,
                        double attentionLambda, ScheduledSampling scheduledSampling, AttentionMap attentionMap, ScstOptions scst, int layers) {
        this(decoder, out, epochs, batchSize, learningRate, lrDecay, patience, minCount, maxLength, seed, checkpointEvery, devBeam,
                embedSize, hidden, dropout, limitTrainImages, limitDevImages, attentionLambda, scheduledSampling, attentionMap, scst, layers, 0);
    }

    /** One recurrent layer. */
    public TrainOptions(DecoderType decoder, Path out, int epochs, int batchSize, double learningRate, double lrDecay,
                        int patience, int minCount, int maxLength, long seed, int checkpointEvery, int devBeam,
                        int embedSize, int hidden, double dropout, int limitTrainImages, int limitDevImages,
                        double attentionLambda, ScheduledSampling scheduledSampling, AttentionMap attentionMap, ScstOptions scst) {
        this(decoder, out, epochs, batchSize, learningRate, lrDecay, patience, minCount, maxLength, seed, checkpointEvery, devBeam,
                embedSize, hidden, dropout, limitTrainImages, limitDevImages, attentionLambda, scheduledSampling, attentionMap, scst, 1);
    }

    /** Cross-entropy training (no self-critical fine-tuning). */
    public TrainOptions(DecoderType decoder, Path out, int epochs, int batchSize, double learningRate, double lrDecay,
                        int patience, int minCount, int maxLength, long seed, int checkpointEvery, int devBeam,
                        int embedSize, int hidden, double dropout, int limitTrainImages, int limitDevImages,
                        double attentionLambda, ScheduledSampling scheduledSampling, AttentionMap attentionMap) {
        this(decoder, out, epochs, batchSize, learningRate, lrDecay, patience, minCount, maxLength, seed, checkpointEvery, devBeam,
                embedSize, hidden, dropout, limitTrainImages, limitDevImages, attentionLambda, scheduledSampling, attentionMap, null);
    }

    /** With the default attention map (sparsemax). */
    public TrainOptions(DecoderType decoder, Path out, int epochs, int batchSize, double learningRate, double lrDecay,
                        int patience, int minCount, int maxLength, long seed, int checkpointEvery, int devBeam,
                        int embedSize, int hidden, double dropout, int limitTrainImages, int limitDevImages,
                        double attentionLambda, ScheduledSampling scheduledSampling) {
        this(decoder, out, epochs, batchSize, learningRate, lrDecay, patience, minCount, maxLength, seed, checkpointEvery, devBeam,
                embedSize, hidden, dropout, limitTrainImages, limitDevImages, attentionLambda, scheduledSampling, AttentionMap.SPARSEMAX);
    }
}
