package org.captioner.eval;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Failure modes of generated captions that the n-gram metrics hide: repeated phrases ("a man in a blue shirt
 * is standing next to a man in a blue shirt"), captions that end in a function word ("a dog runs with a"), and
 * a shrinking vocabulary (distinct words over the whole set).
 */
public final class CaptionStats {
    private long captions, repeated, badEnding;
    private final Set<String> vocabulary = new HashSet<>();

    /** Adds one caption's words. */
    public void add(List<String> words) {
        captions++;
        if (repeatsPhrase(words)) repeated++;
        if (!words.isEmpty() && org.captioner.text.Vocabulary.FUNCTION_WORDS.contains(words.get(words.size() - 1))) badEnding++;
        vocabulary.addAll(words);
    }

    /** True when some word trigram occurs twice in the caption (a repeated phrase of three words or more). */
    public static boolean repeatsPhrase(List<String> w) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i + 3 <= w.size(); i++) {
            if (!seen.add(w.get(i) + ' ' + w.get(i + 1) + ' ' + w.get(i + 2))) return true;
        }
        return false;
    }

    public long captions() {
        return captions;
    }

    public double repeatedPhraseShare() {
        return captions == 0 ? Double.NaN : (double) repeated / captions;
    }

    public double badEndingShare() {
        return captions == 0 ? Double.NaN : (double) badEnding / captions;
    }

    public int distinctWords() {
        return vocabulary.size();
    }
}
