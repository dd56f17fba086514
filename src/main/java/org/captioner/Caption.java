package org.captioner;

import java.util.List;

/**
 * A generated caption.
 *
 * @param text      the caption, words separated by spaces
 * @param score     total log-probability of the words and the final {@code <end>}
 * @param tokens    the words
 * @param nbest     the n best captions, this one first (just this one unless n-best was asked for)
 * @param attention for attention models, per word (and the final {@code <end>}) the weights over the grid cells
 *                  (row-major, row 0 at the top); empty otherwise
 */
public record Caption(String text, double score, List<String> tokens, List<Caption> nbest, List<float[]> attention) {
    /** A caption from its words. */
    public static Caption of(List<String> words, double score, List<Caption> nbest, List<float[]> attention) {
        return new Caption(text(words), score, List.copyOf(words), nbest, attention);
    }

    /** The one place words become caption text: joined by single spaces. */
    public static String text(List<String> words) {
        return String.join(" ", words);
    }

    @Override
    public String toString() {
        return text;
    }
}
