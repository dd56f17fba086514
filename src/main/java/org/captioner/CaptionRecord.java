package org.captioner;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What captioning one image gave: its caption, or the reason it failed. Every output is derived from this one record
 * through {@link #value(Field)}: the CLI's JSONL lines, CSV rows and COCO results, the progress file of
 * {@code caption --out}, the Spark job's rows (its schema is built from {@link Field}), and the HTTP service's answers.
 * Keys keep a fixed order so that outputs of two runs compare byte for byte.
 *
 * @param image   the name the image is reported under
 * @param caption the caption, null when the image failed
 * @param error   why the image failed, null when it was captioned
 */
public record CaptionRecord(String image, Caption caption, String error) {
    /** The record's fields, in the order every format writes them. */
    public enum Field {
        /** string: the image's name */
        IMAGE,
        /** string: the words separated by spaces */
        CAPTION,
        /** double: total log-probability of the words and the final {@code <end>} */
        SCORE,
        /** list of {caption, score}: the n best captions, the caption first */
        NBEST,
        /** {words, grid, peak_cells, maps}: per word (and {@code <end>}) the weights over the grid cells */
        ATTENTION,
        /** string: why the image failed */
        ERROR;

        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public CaptionRecord {
        if ((caption == null) == (error == null)) throw new IllegalArgumentException("a record has a caption or an error, not both or neither");
    }

    public static CaptionRecord of(String image, Caption caption) {
        return new CaptionRecord(image, caption, null);
    }

    public static CaptionRecord failed(String image, String error) {
        return new CaptionRecord(image, null, error);
    }

    public boolean ok() {
        return caption != null;
    }

    /** A field's value in the JSON model (strings, numbers, lists, maps); null where the record has none. */
    public Object value(Field f) {
        return switch (f) {
            case IMAGE -> image;
            case ERROR -> error;
            case CAPTION -> ok() ? caption.text() : null;
            case SCORE -> ok() ? caption.score() : null;
            case NBEST -> {
                if (!ok()) yield null;
                List<Map<String, Object>> nb = new ArrayList<>();
                for (Caption x : caption.nbest()) {
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("caption", x.text());
                    e.put("score", x.score());
                    nb.add(e);
                }
                yield nb;
            }
            case ATTENTION -> {
                if (!ok() || caption.attention().isEmpty()) yield null;
                Map<String, Object> att = new LinkedHashMap<>();
                att.put("words", attentionWords(caption));
                int[] grid = attentionGrid(caption.attention().get(0).length);
                att.put("grid", List.of(grid[0], grid[1]));
                att.put("peak_cells", peakCells(caption));
                att.put("maps", caption.attention());
                yield att;
            }
        };
    }

    /**
     * The JSON object of this record (a JSONL line, a serve answer): {@code image} when asked for, then {@code caption},
     * {@code score}, {@code nbest} and {@code attention} when asked for (and present); a failed image's {@code error}.
     */
    public Map<String, Object> json(boolean withImage, boolean withNbest, boolean withAttention) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (withImage) m.put(Field.IMAGE.key(), image);
        if (!ok()) {
            m.put(Field.ERROR.key(), error);
            return m;
        }
        m.put(Field.CAPTION.key(), value(Field.CAPTION));
        m.put(Field.SCORE.key(), value(Field.SCORE));
        if (withNbest) m.put(Field.NBEST.key(), value(Field.NBEST));
        Object att = withAttention ? value(Field.ATTENTION) : null;
        if (att != null) m.put(Field.ATTENTION.key(), att);
        return m;
    }

    /** The CSV columns: image, caption, score, error. */
    public static final List<Field> CSV_COLUMNS = List.of(Field.IMAGE, Field.CAPTION, Field.SCORE, Field.ERROR);

    /** This record's CSV row ({@link #CSV_COLUMNS}; a missing value is an empty cell). */
    public Object[] csvRow() {
        return CSV_COLUMNS.stream().map(f -> value(f) == null ? "" : value(f)).toArray();
    }

    private static final Pattern COCO_ID = Pattern.compile("(\\d{6,12})\\.(?i:jpe?g|png)$");

    /**
     * This record as a COCO results entry ({@code image_id} read from a COCO file name, {@code file_name},
     * {@code caption}); null for a failed image, since COCO results hold captions only.
     */
    public Map<String, Object> cocoEntry() {
        if (!ok()) return null;
        Map<String, Object> m = new LinkedHashMap<>();
        Matcher id = COCO_ID.matcher(image);
        if (id.find()) m.put("image_id", Long.parseLong(id.group(1)));
        m.put("file_name", image);
        m.put("caption", caption.text());
        return m;
    }

    /** A record back from its JSON object (a progress-file line, a JSONL output line). */
    public static CaptionRecord fromJson(JsonNode n) {
        String image = n.get(Field.IMAGE.key()).asText();
        if (!n.has(Field.CAPTION.key())) return failed(image, n.path(Field.ERROR.key()).asText("unknown error"));
        List<float[]> att = new ArrayList<>();
        for (JsonNode map : n.path(Field.ATTENTION.key()).path("maps")) {
            float[] a = new float[map.size()];
            for (int i = 0; i < a.length; i++) a[i] = (float) map.get(i).asDouble();
            att.add(a);
        }
        List<Caption> nbest = new ArrayList<>();
        for (JsonNode x : n.path(Field.NBEST.key())) nbest.add(Caption.of(words(x), x.path("score").asDouble(), List.of(), List.of()));
        Caption c = Caption.of(words(n), n.path(Field.SCORE.key()).asDouble(), List.of(), att);
        // as the pipeline makes them: the n-best list starts with the caption itself (alone when no n-best was kept)
        if (nbest.isEmpty()) nbest.add(c);
        return of(image, Caption.of(c.tokens(), c.score(), nbest, att));
    }

    private static List<String> words(JsonNode n) {
        String text = n.get(Field.CAPTION.key()).asText();
        return text.isEmpty() ? List.of() : List.of(text.split(" "));
    }

    /** The words a caption's attention maps belong to: its words, then {@code <end>} (where the model looked to stop). */
    public static List<String> attentionWords(Caption c) {
        List<String> words = new ArrayList<>(c.tokens());
        words.add("<end>");
        return words;
    }

    /**
     * Per map, the index of its largest weight (row-major): where each word looked most; for a hard-attention model
     * the one cell the word was read from (it decodes with the most likely cell).
     */
    public static int[] peakCells(Caption c) {
        int[] peaks = new int[c.attention().size()];
        for (int w = 0; w < peaks.length; w++) {
            float[] m = c.attention().get(w);
            for (int i = 1; i < m.length; i++) if (m[i] > m[peaks[w]]) peaks[w] = i;
        }
        return peaks;
    }

    /** Rows and columns of the row-major attention maps over {@code cells} grid cells (a square grid, else one row). */
    public static int[] attentionGrid(int cells) {
        int side = (int) Math.round(Math.sqrt(cells));
        return side * side == cells ? new int[] {side, side} : new int[] {1, cells};
    }
}
