package org.captioner.model;

import java.io.IOException;
import java.nio.file.Path;

/** Creates and loads decoders by type. */
public final class Decoders {
    private Decoders() {
    }

    public static CaptionDecoder create(DecoderConfig c, double learningRate, long seed) {
        return switch (c.type()) {
            case RNN, LSTM, GRU -> RecurrentDecoder.create(c, learningRate, seed);
            case ATTENTION, HARD_ATTENTION -> AttentionDecoder.create(c, learningRate, 1.0, seed);
        };
    }

    public static CaptionDecoder create(DecoderConfig c, double learningRate, double attentionLambda, long seed) {
        return c.type().attends() ? AttentionDecoder.create(c, learningRate, attentionLambda, seed) : create(c, learningRate, seed);
    }

    public static CaptionDecoder load(DecoderConfig c, Path file, boolean withUpdater) throws IOException {
        return load(c, file, withUpdater, 1.0);
    }

    /** {@code attentionLambda}: the attention regulariser's weight when training resumes (ignored by rnn, lstm and gru). */
    public static CaptionDecoder load(DecoderConfig c, Path file, boolean withUpdater, double attentionLambda) throws IOException {
        return switch (c.type()) {
            case RNN, LSTM, GRU -> RecurrentDecoder.load(c, file, withUpdater, org.captioner.train.TrainOptions.DEFAULT_LEARNING_RATE);
            case ATTENTION, HARD_ATTENTION -> AttentionDecoder.load(c, file, withUpdater, org.captioner.train.TrainOptions.DEFAULT_LEARNING_RATE, attentionLambda);
        };
    }
}
