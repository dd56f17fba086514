package org.captioner.model;

/** The caption decoders. */
public enum DecoderType {
    /** h_t = tanh(Wxh x_t + Whh h_{t-1} + Wih v + b), y_t = Why h_t: the image vector enters every step. */
    RNN,
    /** LSTM whose input at every step is [x_t; v]: v reaches every gate through its own weights. */
    LSTM,
    /** Show, Attend and Tell: soft attention over the feature grid. */
    ATTENTION,
    /** GRU whose input at every step is [x_t; v], as the LSTM's: v reaches the reset, update and candidate terms. */
    GRU,
    /** Show, Attend and Tell's stochastic hard attention: each step reads one grid cell, drawn from the attention map. */
    HARD_ATTENTION;

    public static DecoderType parse(String s) {
        for (DecoderType t : values()) if (t.id().equalsIgnoreCase(s) || t.name().equalsIgnoreCase(s)) return t;
        throw new IllegalArgumentException("unknown decoder '" + s + "' (expected rnn, lstm, gru, attention or hard-attention)");
    }

    /** The name on the command line and in config.json: rnn, lstm, gru, attention, hard-attention. */
    public String id() {
        return name().toLowerCase().replace('_', '-');
    }

    /** Whether the decoder reads the feature grid (and so records an attention map per word). */
    public boolean attends() {
        return this == ATTENTION || this == HARD_ATTENTION;
    }
}
