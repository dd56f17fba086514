package org.captioner.model;

/**
 * Sizes of a decoder. Defaults follow the PyTorch baseline in shared/BASELINES.md: embedding 256, image
 * vector projected to 256, recurrent state 512, dropout 0.5 before the output layer, captions of at most 20 words.
 */
public record DecoderConfig(DecoderType type, int vocabSize, int imageDim, int embedSize, int imageProjection,
                            int hidden, double dropout, int maxLength, int gridCells, int gridChannels, int attentionSize) {
    public static DecoderConfig defaults(DecoderType type, int vocabSize, int imageDim, int gridCells, int gridChannels) {
        return new DecoderConfig(type, vocabSize, imageDim, 256, 256, 512, 0.5, 20, gridCells, gridChannels, 256);
    }

    public DecoderConfig withSizes(int embed, int hidden, double dropout, int maxLength) {
        return new DecoderConfig(type, vocabSize, imageDim, embed, embed, hidden, dropout, maxLength, gridCells, gridChannels, attentionSize);
    }
}
