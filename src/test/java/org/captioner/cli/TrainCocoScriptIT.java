package org.captioner.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.captioner.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code coco-scripts/train_coco.sh} end to end on a COCO 2014 layout made from the shared COCO val2017 photos (60 of
 * them as {@code train2014/COCO_train2014_%012d.jpg} and {@code val2014/COCO_val2014_%012d.jpg}, with their real
 * captions in a Karpathy {@code dataset_coco.json} whose splits are train, restval, val and test), one epoch of each
 * training stage: killed once during self-critical training and rerun, it resumes (the finished steps are skipped)
 * and produces the bundle and {@code test-scores.json}.
 */
class TrainCocoScriptIT {
    static final Path ROOT = Path.of("").toAbsolutePath();
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void recipeRunsEndToEndAndResumesAfterAKill() throws Exception {
        Path coco = fixture(dir.resolve("coco"), 60);
        Path out = dir.resolve("out");
        Process first = script(coco, out, dir.resolve("first.log"));
        // killed while the self-critical stage runs (cross-entropy done, its checkpoint or bundle being written)
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (!Files.exists(out.resolve(".done-train")) && first.isAlive() && System.nanoTime() < deadline) Thread.sleep(200);
        assertTrue(Files.exists(out.resolve(".done-train")), "cross-entropy stage finished:\n" + Files.readString(dir.resolve("first.log")));
        Thread.sleep(3000);
        first.descendants().forEach(ProcessHandle::destroyForcibly);
        first.destroyForcibly().waitFor();
        assertFalse(Files.exists(out.resolve("test-scores.json")), "killed before the end");

        Process second = script(coco, out, dir.resolve("second.log"));
        assertTrue(second.waitFor(10, TimeUnit.MINUTES), "the rerun finished");
        String log = Files.readString(dir.resolve("second.log"));
        assertEquals(0, second.exitValue(), log);
        assertTrue(log.contains("features: done before, skipped") && log.contains("train: done before, skipped"), log);

        JsonNode scores = JSON.readTree(out.resolve("test-scores.json").toFile());
        for (String m : List.of("BLEU-4", "CIDEr-D", "ROUGE-L")) assertTrue(scores.has(m), "test score " + m + ": " + scores);
        assertEquals(10, Files.readAllLines(out.resolve("test-captions.jsonl")).size(), "every test image decoded");
        JsonNode config = JSON.readTree(out.resolve("model/config.json").toFile());
        assertTrue(config.path("decoding").has("length_alpha"), "length alpha tuned on val: " + config);
        JsonNode training = JSON.readTree(out.resolve("model/training.json").toFile());
        assertTrue(training.has("scst_init"), "a self-critical bundle, with the cross-entropy model it started from: " + training);

        // the bundle is a model the CLI captions with
        Path photos = Files.createDirectories(dir.resolve("photos"));
        Files.copy(coco.resolve("val2014").resolve(firstFile(coco.resolve("val2014"))), photos.resolve("one.jpg"));
        ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("captioner").toString(), "caption", photos.toString(), "--model",
                out.resolve("model").toString(), "--out", dir.resolve("one.jsonl").toString(), "--no-progress")
                .directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("caption.log").toFile());
        pb.environment().put("CAPTIONER_WEIGHTS_DIR", SharedData.mobilenetWeights().getParent().toString());
        Process caption = pb.start();
        assertTrue(caption.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, caption.exitValue(), Files.readString(dir.resolve("caption.log")));
        assertTrue(JSON.readTree(Files.readString(dir.resolve("one.jsonl"))).get("caption").asText().length() > 0);
    }

    /**
     * A COCO 2017 layout (train2017/, val2017/, files named by their 12-digit id) with Karpathy's split file, whose 2014
     * names the images are matched to by COCO id: the script runs through to the test scores.
     */
    @Test
    void coco2017LayoutWithKarpathysSplit() throws Exception {
        Path coco = fixture(dir.resolve("coco2017"), 30);
        for (String[] f : new String[][] {{"train2014", "train2017"}, {"val2014", "val2017"}}) {
            Path from = coco.resolve(f[0]), to = Files.createDirectories(coco.resolve(f[1]));
            try (var s = Files.list(from)) {
                for (Path p : s.toList()) Files.move(p, to.resolve(p.getFileName().toString().replaceAll("COCO_[a-z]+2014_", "")));
            }
            Files.delete(from);
        }
        Path out = dir.resolve("out2017");
        Process p = script(coco, out, dir.resolve("2017.log"));
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "finished");
        String log = Files.readString(dir.resolve("2017.log"));
        assertEquals(0, p.exitValue(), log);
        assertEquals(5, Files.readAllLines(out.resolve("test-captions.jsonl")).size(), "every test image found by its id:\n" + log);
        assertTrue(JSON.readTree(out.resolve("test-scores.json").toFile()).has("CIDEr-D"));
    }

    private static String firstFile(Path folder) throws IOException {
        try (var s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().findFirst().orElseThrow();
        }
    }

    private Process script(Path coco, Path out, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("bash", "coco-scripts/train_coco.sh", coco.toString(), out.toString())
                .directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(Map.of("EPOCHS", "1", "SCST_EPOCHS", "1", "DEV_IMAGES", "8", "BATCH", "16", "ALPHAS", "0,1",
                "CAPTIONER_WEIGHTS_DIR", SharedData.mobilenetWeights().getParent().toString(), "JAVA_OPTS", "-Xmx3g"));
        return pb.start();
    }

    /**
     * A COCO 2014 layout of {@code n} shared val2017 photos: the first 70% in train2014 (split train, then restval),
     * the rest in val2014 (split val, then test: 36, 6, 8 and 10 of 60), with each photo's five captions in Karpathy's format.
     */
    static Path fixture(Path coco, int n) throws IOException {
        Path src = SharedData.require("data/coco/val2017");
        JsonNode ann = JSON.readTree(SharedData.require("data/coco/annotations/captions_val2017.json").toFile());
        Map<Long, List<String>> captions = new LinkedHashMap<>();
        for (JsonNode a : ann.get("annotations")) captions.computeIfAbsent(a.get("image_id").asLong(), k -> new ArrayList<>()).add(a.get("caption").asText());
        List<Path> photos;
        try (var s = Files.list(src)) {
            photos = s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(n).toList();
        }
        Files.createDirectories(coco.resolve("train2014"));
        Files.createDirectories(coco.resolve("val2014"));
        ObjectNode root = JSON.createObjectNode();
        ArrayNode images = root.putArray("images");
        for (int i = 0; i < photos.size(); i++) {
            long id = Long.parseLong(photos.get(i).getFileName().toString().replace(".jpg", ""));
            boolean train = i < n * 7 / 10;
            String folder = train ? "train2014" : "val2014";
            String split = train ? (i < n * 6 / 10 ? "train" : "restval") : (i < n * 5 / 6 ? "val" : "test");
            String name = String.format("COCO_%s_%012d.jpg", folder, id);
            Files.copy(photos.get(i), coco.resolve(folder).resolve(name));
            ObjectNode img = images.addObject();
            img.put("filepath", folder);
            img.put("filename", name);
            img.put("cocoid", id);
            img.put("split", split);
            ArrayNode sentences = img.putArray("sentences");
            for (String c : captions.get(id)) {
                ObjectNode s = sentences.addObject();
                s.put("raw", c);
                ArrayNode toks = s.putArray("tokens");
                for (String t : c.toLowerCase().replaceAll("[^a-z ]", " ").trim().split("\\s+")) toks.add(t);
            }
        }
        root.put("dataset", "coco");
        Files.writeString(coco.resolve("dataset_coco.json"), JSON.writeValueAsString(root));
        return coco;
    }
}
