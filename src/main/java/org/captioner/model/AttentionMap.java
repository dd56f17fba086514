package org.captioner.model;

import java.util.Locale;

/**
 * How the attention decoder turns its scores over the grid cells into weights. {@code SPARSEMAX} (the default for
 * new models) gives exactly zero weight to cells scored far enough below the best, so each word's map covers the
 * cells it uses; {@code SOFTMAX} (Show, Attend and Tell's form, and every model trained before) gives every cell some.
 */
public enum AttentionMap {
    SOFTMAX, SPARSEMAX;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The map named {@code s} (case-insensitive); a clear error for anything else. */
    public static AttentionMap parse(String s) {
        for (AttentionMap m : values()) if (m.id().equalsIgnoreCase(s.trim())) return m;
        throw new IllegalArgumentException("unknown attention map '" + s + "' (expected softmax or sparsemax)");
    }
}
