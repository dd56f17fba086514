package org.captioner;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A caption as the JSON object every front end writes (the CLI's JSONL lines, the HTTP service's answers):
 * {@code caption}, {@code score}, then {@code nbest} and {@code attention} (words, grid, peak_cells, maps) when asked for. Keys keep a fixed order so
 * that outputs of two runs compare byte for byte.
 */
public final class CaptionJson {
    private CaptionJson() {
    }

    /** The fields in order, after any the caller put first (e.g. {@code image}). */
    public static Map<String, Object> fields(Map<String, Object> into, Caption c, boolean withNbest, boolean withAttention) {
        into.put("caption", c.text());
        into.put("score", c.score());
        if (withNbest) {
            List<Map<String, Object>> nb = new ArrayList<>();
            for (Caption x : c.nbest()) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("caption", x.text());
                e.put("score", x.score());
                nb.add(e);
            }
            into.put("nbest", nb);
        }
        if (withAttention && !c.attention().isEmpty()) {
            Map<String, Object> att = new LinkedHashMap<>();
            att.put("words", attentionWords(c));
            int[] grid = attentionGrid(c.attention().get(0).length);
            att.put("grid", List.of(grid[0], grid[1]));
            att.put("peak_cells", peakCells(c));
            att.put("maps", c.attention());
            into.put("attention", att);
        }
        return into;
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
