package org.captioner.data;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Captioned images from any of the formats Captioner reads: MS-COCO captions JSON, the Karpathy split
 * JSON ({@code dataset_coco.json}, {@code dataset_flickr8k.json}), Flickr8k's token file (with its split
 * lists beside it), or a plain TSV/CSV of {@code image, caption}. Images can be looked up by COCO id or
 * by file name.
 */
public final class CaptionDataset {
    public enum Format { COCO, KARPATHY, FLICKR8K, TSV }

    private final String source;
    private final List<ImageCaptions> images;
    private final Map<Long, ImageCaptions> byId = new HashMap<>();
    private final Map<String, ImageCaptions> byName = new HashMap<>();

    public CaptionDataset(String source, List<ImageCaptions> images) {
        this.source = source;
        this.images = Collections.unmodifiableList(images);
        for (ImageCaptions ic : images) {
            if (ic.cocoId() >= 0) byId.put(ic.cocoId(), ic);
            byName.putIfAbsent(ic.file(), ic);
            byName.putIfAbsent(ic.fileName(), ic);
        }
    }

    public String source() {
        return source;
    }

    public List<ImageCaptions> images() {
        return images;
    }

    public int captionCount() {
        return images.stream().mapToInt(i -> i.captions().size()).sum();
    }

    /** Images of one split ("train" includes Karpathy's "restval", as in the usual training set-up). */
    public List<ImageCaptions> split(String split) {
        if (split == null) return images;
        String s = split.toLowerCase(Locale.ROOT);
        Set<String> accept = s.equals("train") ? Set.of("train", "restval") : s.equals("val") ? Set.of("val", "dev") : Set.of(s);
        return images.stream().filter(i -> i.split() != null && accept.contains(i.split())).toList();
    }

    public ImageCaptions byId(long id) {
        return byId.get(id);
    }

    /** By relative path, or by bare file name. */
    public ImageCaptions byName(String name) {
        ImageCaptions ic = byName.get(name);
        if (ic == null) ic = byName.get(name.substring(name.lastIndexOf('/') + 1));
        return ic;
    }

    public static Format detect(Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".token.txt") || name.contains("flickr8k.token") || name.contains("flickr30k.token")) return Format.FLICKR8K;
        if (name.endsWith(".tsv") || name.endsWith(".csv")) return Format.TSV;
        if (name.endsWith(".json")) {
            String head = readHead(file, 4096);
            return head.contains("\"sentences\"") ? Format.KARPATHY : Format.COCO;
        }
        String head = readHead(file, 512);
        if (head.matches("(?s)[^\\t\\n]+#\\d+\\t.*")) return Format.FLICKR8K;
        throw new IOException("cannot tell the format of " + file + " (expected COCO/Karpathy .json, Flickr8k token file or .tsv/.csv)");
    }

    public static CaptionDataset load(Path file) throws IOException {
        return load(file, detect(file));
    }

    public static CaptionDataset load(Path file, Format format) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException("no such file: " + file);
        if (Files.size(file) == 0) throw new IOException(file + " is empty");
        return switch (format) {
            case COCO -> readCoco(file);
            case KARPATHY -> readKarpathy(file);
            case FLICKR8K -> readFlickr(file);
            case TSV -> readTsv(file);
        };
    }

    static JsonNode readJson(Path file) throws IOException {
        return org.captioner.util.Json.read(file);
    }

    /** COCO captions JSON: {@code images[] {id, file_name}}, {@code annotations[] {image_id, caption}}. */
    static CaptionDataset readCoco(Path file) throws IOException {
        JsonNode root = readJson(file);
        if (!root.has("images") || !root.has("annotations")) {
            throw new IOException(file + " is not a COCO captions file (needs 'images' and 'annotations')");
        }
        Map<Long, String> names = new LinkedHashMap<>();
        for (JsonNode im : root.get("images")) names.put(im.path("id").asLong(), im.path("file_name").asText());
        Map<Long, List<String>> caps = new LinkedHashMap<>();
        for (Long id : names.keySet()) caps.put(id, new ArrayList<>());
        for (JsonNode a : root.get("annotations")) {
            long id = a.path("image_id").asLong();
            List<String> l = caps.get(id);
            if (l == null) throw new IOException(file + ": annotation " + a.path("id").asText() + " refers to unknown image_id " + id);
            l.add(a.path("caption").asText());
        }
        List<ImageCaptions> out = new ArrayList<>();
        caps.forEach((id, l) -> out.add(new ImageCaptions(names.get(id), id, null, List.copyOf(l))));
        return new CaptionDataset(file.toString(), out);
    }

    /** Karpathy split JSON: {@code images[] {filepath?, filename, split, sentences[] {raw}, cocoid?}}. */
    static CaptionDataset readKarpathy(Path file) throws IOException {
        JsonNode root = readJson(file);
        if (!root.has("images")) throw new IOException(file + " is not a Karpathy split file (no 'images')");
        List<ImageCaptions> out = new ArrayList<>();
        for (JsonNode im : root.get("images")) {
            String name = im.path("filename").asText();
            if (name.isEmpty()) throw new IOException(file + ": an image has no 'filename'");
            String fp = im.path("filepath").asText("");
            List<String> caps = new ArrayList<>();
            for (JsonNode s : im.path("sentences")) {
                caps.add(s.has("raw") ? s.get("raw").asText() : String.join(" ", toList(s.path("tokens"))));
            }
            long id = im.has("cocoid") ? im.get("cocoid").asLong() : -1;
            out.add(new ImageCaptions(fp.isEmpty() ? name : fp + "/" + name, id, im.path("split").asText(null), caps));
        }
        return new CaptionDataset(file.toString(), out);
    }

    private static List<String> toList(JsonNode arr) {
        List<String> l = new ArrayList<>();
        arr.forEach(n -> l.add(n.asText()));
        return l;
    }

    /**
     * Flickr8k/30k token file ({@code IMAGE.jpg#N<TAB>caption}). Splits come from the official lists beside
     * it ({@code Flickr_8k.trainImages.txt}, {@code .devImages.txt}, {@code .testImages.txt}) when present.
     */
    static CaptionDataset readFlickr(Path file) throws IOException {
        Map<String, List<String>> caps = new LinkedHashMap<>();
        int lineNo = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNo++;
            if (line.isBlank()) continue;
            int tab = line.indexOf('\t'), hash = line.lastIndexOf('#', tab < 0 ? line.length() : tab);
            if (tab < 0 || hash < 0) throw new IOException(file + ":" + lineNo + ": expected IMAGE#N<TAB>caption, got: " + abbreviate(line));
            caps.computeIfAbsent(line.substring(0, hash), k -> new ArrayList<>()).add(line.substring(tab + 1).strip());
        }
        Map<String, String> split = new HashMap<>();
        Path dir = file.toAbsolutePath().getParent();
        for (String[] s : new String[][] {{"train", "trainImages"}, {"dev", "devImages"}, {"test", "testImages"}}) {
            try (var files = Files.list(dir)) {
                for (Path p : files.filter(p -> p.getFileName().toString().endsWith(s[1] + ".txt")).toList()) {
                    for (String n : Files.readAllLines(p)) if (!n.isBlank()) split.put(n.strip(), s[0]);
                }
            }
        }
        List<ImageCaptions> out = new ArrayList<>();
        caps.forEach((name, l) -> out.add(new ImageCaptions(name, -1, split.get(name), l)));
        return new CaptionDataset(file.toString(), out);
    }

    /** {@code image<TAB>caption} (.tsv) or {@code image,caption} (.csv, quoted fields allowed); a header row "image" is skipped. */
    static CaptionDataset readTsv(Path file) throws IOException {
        Map<String, List<String>> caps = new LinkedHashMap<>();
        for (String[] row : TabularFiles.read(file)) {
            caps.computeIfAbsent(row[0], k -> new ArrayList<>()).add(row[1]);
        }
        List<ImageCaptions> out = new ArrayList<>();
        caps.forEach((name, l) -> out.add(new ImageCaptions(name, -1, null, l)));
        return new CaptionDataset(file.toString(), out);
    }

    static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    private static String readHead(Path file, int n) throws IOException {
        try (var in = Files.newInputStream(file)) {
            return new String(in.readNBytes(n), StandardCharsets.UTF_8);
        }
    }
}
