package org.captioner.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.captioner.util.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Word vocabulary: lower-cased alphabetic word tokens seen at least {@code minCount} times in the training
 * captions, after the four special tokens {@code <pad> <start> <end> <unk>} (ids 0..3). Saved with the model.
 */
public final class Vocabulary {
    public static final int PAD = 0, START = 1, END = 2, UNK = 3;
    public static final List<String> SPECIALS = List.of("<pad>", "<start>", "<end>", "<unk>");
    /** Words a complete English caption does not end on (articles, prepositions, conjunctions, auxiliaries). */
    public static final java.util.Set<String> FUNCTION_WORDS = java.util.Set.of("a", "an", "the", "of", "in", "on", "at", "with", "and",
            "or", "to", "for", "from", "by", "is", "are", "his", "her", "their", "its", "into", "onto", "near", "while", "as", "that");
    private static final Pattern WORD = Pattern.compile("[a-z]+");

    private final List<String> words;
    private final Map<String, Integer> ids = new HashMap<>();
    private final int minCount;

    private Vocabulary(List<String> words, int minCount) {
        this.words = Collections.unmodifiableList(words);
        this.minCount = minCount;
        for (int i = 0; i < words.size(); i++) ids.put(words.get(i), i);
    }

    /** Lower-cased alphabetic tokens, the same rule for building the vocabulary and for encoding. */
    public static List<String> tokenize(String caption) {
        List<String> out = new ArrayList<>();
        Matcher m = WORD.matcher(caption.toLowerCase(Locale.ROOT));
        while (m.find()) out.add(m.group());
        return out;
    }

    public static Vocabulary build(Collection<String> trainingCaptions, int minCount) {
        if (minCount < 1) throw new IllegalArgumentException("minimum count must be >= 1");
        Map<String, Integer> counts = new TreeMap<>(); // sorted: the same captions always give the same ids
        for (String c : trainingCaptions) for (String w : tokenize(c)) counts.merge(w, 1, Integer::sum);
        List<String> words = new ArrayList<>(SPECIALS);
        counts.forEach((w, n) -> {
            if (n >= minCount) words.add(w);
        });
        return new Vocabulary(words, minCount);
    }

    public int size() {
        return words.size();
    }

    public int minCount() {
        return minCount;
    }

    public String word(int id) {
        return words.get(id);
    }

    public int id(String word) {
        return ids.getOrDefault(word, UNK);
    }

    /** Token ids of a caption (no start/end), cut to at most {@code maxLength} words. */
    public int[] encode(String caption, int maxLength) {
        return encode(tokenize(caption), maxLength);
    }

    /** Ids of already tokenized words, cut to at most {@code maxLength}. */
    public int[] encode(List<String> toks, int maxLength) {
        int n = Math.min(toks.size(), maxLength);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = id(toks.get(i));
        return out;
    }

    /** Words of the ids up to (not including) the first {@code <end>}, specials dropped. */
    /** A token sequence as caption text ({@link org.captioner.Caption#text}). */
    public String text(int[] ids) {
        return org.captioner.Caption.text(decode(ids));
    }

    public List<String> decode(int[] ids) {
        List<String> out = new ArrayList<>();
        for (int id : ids) {
            if (id == END) break;
            if (id > UNK) out.add(words.get(id));
            else if (id == UNK) out.add("<unk>");
        }
        return out;
    }

    public void save(Path file) throws IOException {
        ObjectMapper m = new ObjectMapper();
        ObjectNode n = m.createObjectNode();
        n.put("format", "captioner-vocabulary/1");
        n.put("min_count", minCount);
        n.put("tokenizer", "lower-case, [a-z]+ words");
        n.putPOJO("words", words);
        AtomicFiles.writeString(file, m.writeValueAsString(n) + "\n");
    }

    public static Vocabulary load(Path file) throws IOException {
        JsonNode n = new ObjectMapper().readTree(file.toFile());
        List<String> words = new ArrayList<>();
        n.path("words").forEach(w -> words.add(w.asText()));
        if (words.size() < SPECIALS.size() || !words.subList(0, 4).equals(SPECIALS)) {
            throw new IOException(file + " is not a Captioner vocabulary (must start with " + SPECIALS + ")");
        }
        return new Vocabulary(words, n.path("min_count").asInt(1));
    }
}
