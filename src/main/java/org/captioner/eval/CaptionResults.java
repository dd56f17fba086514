package org.captioner.eval;

import com.fasterxml.jackson.databind.JsonNode;
import org.captioner.data.TabularFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Generated captions to evaluate, read from: a COCO results JSON ({@code [{"image_id", "caption"}]}), the
 * JSONL that {@code caption} writes ({@code {"image", "caption"}} per line; lines with {@code "error"} are
 * counted, not scored), or TSV/CSV {@code image, caption} (with {@code caption --format csv}'s {@code score} and
 * {@code error} columns: rows with an error are counted, not scored).
 */
public record CaptionResults(List<Entry> entries, int errorLines) {
    /** One generated caption: matched by COCO id when {@code imageId >= 0}, else by {@code image} name. */
    public record Entry(String image, long imageId, String caption) {
        public String label() {
            return imageId >= 0 ? "image_id " + imageId : image;
        }
    }

    public static CaptionResults read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException("no such file: " + file);
        String text = Files.readString(file, StandardCharsets.UTF_8);
        String t = text.stripLeading();
        if (t.isEmpty()) throw new IOException(file + " is empty");
        if (t.startsWith("[")) return readCocoJson(file, text);
        if (t.startsWith("{")) return readJsonl(file, text);
        List<Entry> entries = new ArrayList<>();
        int errors = 0;
        for (String[] row : TabularFiles.read(file)) {
            if (row.length >= 4 && !row[3].isBlank()) errors++;         // caption --format csv: a failed image's row
            else entries.add(new Entry(row[0], -1, row[1]));
        }
        return new CaptionResults(entries, errors);
    }

    private static CaptionResults readCocoJson(Path file, String text) throws IOException {
        JsonNode root = parse(file, text, 0);
        List<Entry> out = new ArrayList<>();
        int i = 0;
        for (JsonNode n : root) {
            if (!n.has("caption") || !(n.has("image_id") || n.has("image"))) {
                throw new IOException(file + ": result " + i + " needs \"image_id\" (or \"image\") and \"caption\": " + n);
            }
            out.add(new Entry(n.path("image").asText(null), n.has("image_id") ? n.get("image_id").asLong() : -1, n.get("caption").asText()));
            i++;
        }
        return new CaptionResults(out, 0);
    }

    private static CaptionResults readJsonl(Path file, String text) throws IOException {
        List<Entry> out = new ArrayList<>();
        int errors = 0, lineNo = 0;
        for (String line : text.split("\n", -1)) {
            lineNo++;
            if (line.isBlank()) continue;
            JsonNode n = parse(file, line, lineNo);
            if (n.has("error")) {
                errors++;
                continue;
            }
            if (!n.has("caption") || !(n.has("image") || n.has("image_id"))) {
                throw new IOException(file + ":" + lineNo + ": needs \"image\" (or \"image_id\") and \"caption\"");
            }
            out.add(new Entry(n.path("image").asText(null), n.has("image_id") ? n.get("image_id").asLong() : -1, n.get("caption").asText()));
        }
        return new CaptionResults(out, errors);
    }

    private static JsonNode parse(Path file, String text, int lineNo) throws IOException {
        return org.captioner.util.Json.parse(file, text, lineNo);
    }
}
