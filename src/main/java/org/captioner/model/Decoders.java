package org.captioner.model;

import java.io.IOException;
import java.nio.file.Path;

/** Creates and loads decoders by type. */
public final class Decoders {
    private Decoders() {
    }

    public static CaptionDecoder create(DecoderConfig c, double learningRate, long seed) {
        return switch (c.type()) {
            case RNN, LSTM -> InjectedRnnDecoder.create(c, learningRate, seed);
            case ATTENTION -> throw new UnsupportedOperationException("the attention decoder is not implemented yet");
        };
    }

    public static CaptionDecoder load(DecoderConfig c, Path file, boolean withUpdater) throws IOException {
        return switch (c.type()) {
            case RNN, LSTM -> InjectedRnnDecoder.load(c, file, withUpdater);
            case ATTENTION -> throw new UnsupportedOperationException("the attention decoder is not implemented yet");
        };
    }
}
