package org.captioner.model;

/**
 * Sizes of a decoder. Defaults follow the PyTorch baseline in shared/BASELINES.md: embedding 256, image
 * vector projected to 256, recurrent state 512, dropout 0.5 before the output layer, captions of at most 20 words.
 * {@code attentionMap} matters only to the attention decoder (models saved before it existed are softmax);
 * {@code layers} is the number of stacked recurrent layers of {@code rnn}, {@code lstm} and {@code gru} (models saved
 * before it existed have one); {@code contextProjection} (attention decoders; 0 = none, as models saved before it) the
 * width the grid's channels are projected to, once per image, before attention and the LSTM input.
 */
public record DecoderConfig(DecoderType type, int vocabSize, int imageDim, int embedSize, int imageProjection,
                            int hidden, double dropout, int maxLength, int gridCells, int gridChannels, int attentionSize,
                            AttentionMap attentionMap, int layers, int contextProjection) {
    public DecoderConfig {
        if (contextProjection < 0) throw new IllegalArgumentException("the context projection must be positive (or 0: none), not " + contextProjection);
        if (contextProjection > 0 && !type.attends()) throw new IllegalArgumentException("--context-projection is for the attention decoders");
        // hard attention draws cells from a softmax map: a sparsemax map gives cells outside its support probability 0,
        // where the entropy term's gradient (log p + 1) does not exist
        if (type == DecoderType.HARD_ATTENTION) attentionMap = AttentionMap.SOFTMAX;
        if (layers < 1) throw new IllegalArgumentException("layers must be at least 1, not " + layers);
        if (layers > 1 && type.attends()) {
            throw new IllegalArgumentException("the attention decoders have one LSTM layer; --layers is for rnn, lstm and gru");
        }
    }

    /** No context projection. */
    public DecoderConfig(DecoderType type, int vocabSize, int imageDim, int embedSize, int imageProjection, int hidden,
                         double dropout, int maxLength, int gridCells, int gridChannels, int attentionSize, AttentionMap attentionMap, int layers) {
        this(type, vocabSize, imageDim, embedSize, imageProjection, hidden, dropout, maxLength, gridCells, gridChannels,
                attentionSize, attentionMap, layers, 0);
    }

    /** One recurrent layer. */
    public DecoderConfig(DecoderType type, int vocabSize, int imageDim, int embedSize, int imageProjection, int hidden,
                         double dropout, int maxLength, int gridCells, int gridChannels, int attentionSize, AttentionMap attentionMap) {
        this(type, vocabSize, imageDim, embedSize, imageProjection, hidden, dropout, maxLength, gridCells, gridChannels,
                attentionSize, attentionMap, 1);
    }

    /** With softmax attention. */
    public DecoderConfig(DecoderType type, int vocabSize, int imageDim, int embedSize, int imageProjection, int hidden,
                         double dropout, int maxLength, int gridCells, int gridChannels, int attentionSize) {
        this(type, vocabSize, imageDim, embedSize, imageProjection, hidden, dropout, maxLength, gridCells, gridChannels,
                attentionSize, AttentionMap.SOFTMAX);
    }

    public static DecoderConfig defaults(DecoderType type, int vocabSize, int imageDim, int gridCells, int gridChannels) {
        return new DecoderConfig(type, vocabSize, imageDim, 256, 256, 512, 0.5, 20, gridCells, gridChannels, 256);
    }

    public DecoderConfig withSizes(int embed, int hidden, double dropout, int maxLength) {
        return new DecoderConfig(type, vocabSize, imageDim, embed, embed, hidden, dropout, maxLength, gridCells, gridChannels,
                attentionSize, attentionMap, layers, contextProjection);
    }

    public DecoderConfig withAttentionMap(AttentionMap map) {
        return new DecoderConfig(type, vocabSize, imageDim, embedSize, imageProjection, hidden, dropout, maxLength, gridCells,
                gridChannels, attentionSize, map, layers, contextProjection);
    }

    public DecoderConfig withLayers(int n) {
        return new DecoderConfig(type, vocabSize, imageDim, embedSize, imageProjection, hidden, dropout, maxLength, gridCells,
                gridChannels, attentionSize, attentionMap, n, contextProjection);
    }

    public DecoderConfig withContextProjection(int width) {
        return new DecoderConfig(type, vocabSize, imageDim, embedSize, imageProjection, hidden, dropout, maxLength, gridCells,
                gridChannels, attentionSize, attentionMap, layers, width);
    }

    /** The channels attention reads and the LSTM takes in: the projection's width, or the grid's own. */
    public int contextChannels() {
        return contextProjection > 0 ? contextProjection : gridChannels;
    }
}
