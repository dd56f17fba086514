package org.captioner.eval;

import edu.stanford.nlp.ling.CoreLabel;
import edu.stanford.nlp.process.CoreLabelTokenFactory;
import edu.stanford.nlp.process.PTBTokenizer;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The reference for {@link PtbTokenizer} (test scope: CoreNLP is GPL-2.0). Tokenization exactly as coco-caption's
 * {@code ptbtokenizer.py}: all sentences are joined with newlines
 * (newlines inside a caption become spaces) and run through Stanford CoreNLP 3.4.1's PTBTokenizer with
 * {@code -preserveLines -lowerCase}; then the punctuation tokens in {@link #PUNCTUATION} are dropped.
 *
 * <p>Faithful quirk: lower-casing happens after PTB escaping, so brackets come out as {@code -lrb-} and
 * {@code -rrb-}, which do not match the upper-case entries of the punctuation list and are kept, as in the
 * reference implementation.
 */
public final class CoreNlpPtbTokenizer {
    static final Set<String> PUNCTUATION = PtbTokenizer.PUNCTUATION;     // coco-caption's list

    private CoreNlpPtbTokenizer() {
    }

    /** Tokenizes each sentence; result i is sentence i's tokens joined by single spaces. */
    public static List<String> tokenize(List<String> sentences) {
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < sentences.size(); i++) {
            if (i > 0) all.append('\n');
            all.append(sentences.get(i).replace('\n', ' '));
        }
        // "tokenizeNLs" is what -preserveLines adds: newlines come back as *NL* tokens, one per sentence break.
        PTBTokenizer<CoreLabel> tok = new PTBTokenizer<>(new StringReader(all.toString()), new CoreLabelTokenFactory(), "tokenizeNLs");
        List<String> out = new ArrayList<>(sentences.size());
        List<String> line = new ArrayList<>();
        while (tok.hasNext()) {
            String w = tok.next().word();
            if (w.equals(PTBTokenizer.getNewlineToken())) {
                out.add(finish(line));
                line.clear();
            } else {
                line.add(w.toLowerCase(Locale.ROOT));
            }
        }
        out.add(finish(line));
        // Trailing empty sentences produce no *NL* token after the last word.
        while (out.size() < sentences.size()) out.add("");
        if (out.size() != sentences.size()) {
            throw new IllegalStateException("tokenizer returned " + out.size() + " lines for " + sentences.size() + " sentences");
        }
        return out;
    }

    public static String tokenize(String sentence) {
        return tokenize(List.of(sentence)).get(0);
    }

    private static String finish(List<String> tokens) {
        StringBuilder sb = new StringBuilder();
        for (String t : tokens) {
            if (PUNCTUATION.contains(t)) continue;
            if (sb.length() > 0) sb.append(' ');
            sb.append(t);
        }
        return sb.toString();
    }
}
