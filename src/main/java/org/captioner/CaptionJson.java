package org.captioner;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A caption as the JSON object every front end writes (the CLI's JSONL lines, the HTTP service's answers):
 * {@code caption}, {@code score}, then {@code nbest} and {@code attention} when asked for. Keys keep a fixed order so
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
            List<String> words = new ArrayList<>(c.tokens());
            words.add("<end>");                                     // the last map is where the model looked to stop
            att.put("words", words);
            int cells = c.attention().get(0).length, side = (int) Math.round(Math.sqrt(cells));
            att.put("grid", side * side == cells ? List.of(side, side) : List.of(1, cells));   // rows, cols (row-major maps)
            att.put("maps", c.attention());
            into.put("attention", att);
        }
        return into;
    }
}
