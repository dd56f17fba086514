package org.captioner.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.testing.SharedData;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the Spark tests share: an image folder with bad files in it, and readers for the jobs' JSON-lines output. */
final class SparkFixture {
    static final ObjectMapper JSON = new ObjectMapper();

    private SparkFixture() {
    }

    /**
     * dir/images: n COCO photos, a text file named .jpg, an empty .png, a truncated JPEG, a README.txt (not an image
     * by name, so not an input), and sub/deeper.JPG (an input only with --recursive). Returns the folder.
     */
    static Path images(Path dir, int n) throws IOException {
        Path images = Files.createDirectories(dir.resolve("images"));
        List<Path> photos;
        try (var s = Files.list(SharedData.require("data/coco/val2017"))) {
            photos = s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(n + 1).toList();
        }
        for (Path p : photos.subList(0, n)) Files.copy(p, images.resolve(p.getFileName()));
        Files.writeString(images.resolve("notes.jpg"), "this is not an image");
        Files.write(images.resolve("empty.png"), new byte[0]);
        byte[] jpeg = Files.readAllBytes(photos.get(0));
        Files.write(images.resolve("truncated.jpg"), java.util.Arrays.copyOf(jpeg, jpeg.length / 3));
        Files.writeString(images.resolve("README.txt"), "photos");
        Files.createDirectories(images.resolve("sub"));
        Files.copy(photos.get(n), images.resolve("sub/deeper.JPG"));
        return images;
    }

    /** Rows of a JSON-lines output folder (Spark's part files), by file name of their image. */
    static Map<String, JsonNode> jsonRows(Path out) throws IOException {
        Map<String, JsonNode> rows = new LinkedHashMap<>();
        try (var s = Files.list(out)) {
            for (Path part : s.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
                for (String line : Files.readAllLines(part)) {
                    if (line.isBlank()) continue;
                    JsonNode n = JSON.readTree(line);
                    String image = n.get("image").asText();
                    if (rows.put(image.substring(image.lastIndexOf('/') + 1), n) != null) throw new AssertionError("two rows for " + image);
                }
            }
        }
        return rows;
    }

    static Map<String, JsonNode> jsonl(Path file) throws IOException {
        Map<String, JsonNode> rows = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            JsonNode n = JSON.readTree(line);
            String image = n.get("image").asText();
            rows.put(image.substring(image.lastIndexOf('/') + 1), n);
        }
        return rows;
    }
}
