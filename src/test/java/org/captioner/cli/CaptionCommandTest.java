package org.captioner.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.Caption;
import org.captioner.Captioner;
import org.captioner.model.DecoderConfig;
import org.captioner.model.DecoderType;
import org.captioner.model.Decoders;
import org.captioner.model.ModelBundle;
import org.captioner.testing.SharedData;
import org.captioner.text.Vocabulary;
import org.captioner.util.Hashing;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** The caption command and the embedded API, with real SqueezeNet weights and a small untrained decoder. */
class CaptionCommandTest {
    @TempDir
    static Path dir;
    static Path model, images, weights;

    @BeforeAll
    static void setup() throws Exception {
        weights = SharedData.squeezenetWeights();
        Vocabulary v = Vocabulary.build(List.of("a dog runs on the grass", "a man rides a bike", "children play in water"), 1);
        var dec = Decoders.create(DecoderConfig.defaults(DecoderType.LSTM, v.size(), 512, 169, 512).withSizes(16, 32, 0, 8), 1e-3, 1);
        model = dir.resolve("model");
        ModelBundle.save(model, dec, v, "squeezenet", Hashing.sha256(weights), new ObjectMapper().createObjectNode());
        images = Files.createDirectories(dir.resolve("images"));
        List<Path> src;
        try (var s = Files.list(SharedData.require("data/coco/val2017"))) {
            src = s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(5).toList();
        }
        for (Path p : src) Files.copy(p, images.resolve(p.getFileName()));
        Files.writeString(images.resolve("zz-broken.jpg"), "not an image");
    }

    /** The test folder's images that decode (all but zz-broken.jpg), in the order the CLI captions them. */
    static List<Path> goodImages() throws java.io.IOException {
        try (var s = Files.list(images)) {
            return s.filter(p -> !p.toString().contains("broken")).sorted().toList();
        }
    }

    static CliTest.Run caption(String... extra) {
        String[] base = {"caption", images.toString(), "--model", model.toString(), "--weights", weights.toString(), "--no-progress"};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return CliTest.run(all);
    }

    @Test
    void jsonlWithErrorsResumeAndNoClobber() throws Exception {
        Path out = dir.resolve("caps.jsonl"), stats = dir.resolve("stats.json");
        CliTest.Run r = caption("--out", out.toString(), "--nbest", "2", "--stats-json", stats.toString());
        assertEquals(Main.EXIT_PARTIAL, r.code(), r.err());
        JsonNode st = new ObjectMapper().readTree(stats.toFile());
        assertEquals(6, st.get("images").asInt());
        assertEquals(5, st.get("captioned").asInt());
        assertEquals(1, st.get("failed").asInt());
        for (String stage : List.of("decode_wait", "stack", "encoder", "search")) {
            assertTrue(st.get("stage_seconds").get(stage).asDouble() > 0, "stage " + stage + " timed: " + st);
        }
        assertTrue(st.get("seconds_before_first_image").asDouble() > 0, st.toString());
        List<String> lines = Files.readAllLines(out);
        assertEquals(6, lines.size());
        ObjectMapper m = new ObjectMapper();
        JsonNode first = m.readTree(lines.get(0));
        assertTrue(first.get("caption").asText().length() > 0 && first.has("score") && first.get("nbest").size() == 2, lines.get(0));
        JsonNode bad = m.readTree(lines.get(5));
        assertEquals("zz-broken.jpg", bad.get("image").asText());
        assertTrue(bad.get("error").asText().contains("not a recognised image format"));

        String before = Files.readString(out);
        r = caption("--out", out.toString());
        assertEquals(Main.EXIT_FATAL, r.code());
        assertTrue(r.err().contains("--overwrite"), r.err());
        assertEquals(before, Files.readString(out), "an existing output is never clobbered");

        // A damaged finished output (two captions lost, a torn line): the same command with --resume redoes exactly those.
        // (What a real crash leaves, the progress file, is tested with real kills in CrashSafetyIT.)
        Files.writeString(out, String.join("\n", lines.subList(0, 3)) + "\n{\"image\": \"000");
        r = caption("--out", out.toString(), "--nbest", "2", "--resume");
        assertTrue(r.err().contains("3 skipped"), r.err());
        List<String> resumed = Files.readAllLines(out);
        assertEquals(6, resumed.size());
        assertEquals(lines.subList(0, 3), resumed.subList(0, 3));
    }

    /** --html with an (untrained) attention model: gallery, heatmaps, the failed file listed, and it renders. */
    @Test
    void htmlReportWithAttentionHeatmaps() throws Exception {
        Vocabulary v = Vocabulary.build(List.of("a dog runs on the grass", "a man rides a bike"), 1);
        var dec = Decoders.create(DecoderConfig.defaults(DecoderType.ATTENTION, v.size(), 512, 169, 512).withSizes(16, 32, 0, 8), 1e-3, 1);
        Path attModel = dir.resolve("att-model");
        ModelBundle.save(attModel, dec, v, "squeezenet", Hashing.sha256(weights), new ObjectMapper().createObjectNode());
        Path report = dir.resolve("report");
        CliTest.Run r = CliTest.run("caption", images.toString(), "--model", attModel.toString(), "--weights", weights.toString(),
                "--no-progress", "--html", report.toString(), "--out", dir.resolve("att.jsonl").toString());
        assertEquals(Main.EXIT_PARTIAL, r.code(), r.err());
        String index = Files.readString(report.resolve("index.html"));
        assertTrue(index.contains("6 images: 5 captioned, 1 failed"), index);
        assertTrue(index.contains("zz-broken.jpg") && index.contains("not a recognised image format"));
        long heatmaps;
        try (var files = Files.list(report.resolve("img"))) {
            heatmaps = files.filter(f -> f.getFileName().toString().contains("-")).count();
        }
        assertTrue(heatmaps >= 5, "a heatmap per word: " + heatmaps);
        Path chromium = org.captioner.testing.Browser.require();
        String dom = org.captioner.testing.Browser.dumpDom(chromium, report.resolve("index.html"), dir.resolve("chrome-profile"));
        assertTrue(dom.contains("data-images-broken=\"0\""), "every image in the report decodes in the browser");
        assertTrue(dom.contains("data-images-loaded=\"" + (5 + heatmaps) + "\""), "thumbnails and heatmaps all load");

        CliTest.Run again = CliTest.run("caption", images.toString(), "--model", attModel.toString(), "--weights", weights.toString(),
                "--no-progress", "--html", report.toString());
        assertEquals(Main.EXIT_FATAL, again.code(), "an existing report is not replaced without --overwrite");
        assertTrue(again.err().contains("--overwrite"), again.err());
    }

    @Test
    void csvAndCocoFormats() throws Exception {
        Path csv = dir.resolve("caps.csv"), coco = dir.resolve("caps.json");
        CliTest.Run r = caption("--out", csv.toString(), "--format", "csv", "--nbest", "2");
        assertTrue(r.err().contains("note: --format csv holds one caption per image: the n-best lists are not written"), r.err());
        List<String> rows = Files.readAllLines(csv);
        assertEquals("image,caption,score,error", rows.get(0));
        assertEquals(7, rows.size(), "five captions and the broken file's error row");
        assertTrue(rows.get(1).matches("[^,]+\\.jpg,(\"[a-z ]+\"|[a-z]+),-?[0-9.E-]+,"), rows.get(1));
        assertTrue(rows.get(6).startsWith("zz-broken.jpg,,,"), rows.get(6));
        assertTrue(rows.get(6).length() > "zz-broken.jpg,,,".length(), "the error column gives the reason: " + rows.get(6));
        var results = org.captioner.eval.CaptionResults.read(csv);
        assertEquals(5, results.entries().size());
        assertEquals(1, results.errorLines(), "evaluate counts the error row, does not score it");
        r = caption("--out", coco.toString(), "--format", "coco", "--attention");
        assertTrue(r.err().contains("1 image failed; the COCO results file holds captions only"), r.err());
        assertTrue(r.err().contains("attention maps are not written"), r.err());
        JsonNode arr = new ObjectMapper().readTree(coco.toFile());
        assertEquals(5, arr.size());
        assertTrue(arr.get(0).get("image_id").asLong() > 0, arr.get(0).toString());
    }

    @Test
    void badOptionsAndMismatchedWeights() throws Exception {
        assertEquals(Main.EXIT_USAGE, caption("--beam", "2", "--nbest", "3").code());
        assertEquals(Main.EXIT_USAGE, caption("--format", "xml").code());
        assertEquals(Main.EXIT_USAGE, caption("--beam", "0").code());
        CliTest.Run wide = caption("--beam", "21");
        assertEquals(Main.EXIT_USAGE, wide.code());
        assertTrue(wide.err().contains("beam must be in [1, 20], got 21"), "the one beam limit: " + wide.err());

        Path other = Files.createDirectories(dir.resolve("other"));
        Files.copy(model.resolve("config.json"), other.resolve("config.json"));
        for (String f : List.of("vocab.json", "decoder.zip", "training.json")) Files.copy(model.resolve(f), other.resolve(f));
        String cfg = Files.readString(other.resolve("config.json")).replace(Hashing.sha256(weights), "0000");
        Files.writeString(other.resolve("config.json"), cfg);
        CliTest.Run r = CliTest.run("caption", images.toString(), "--model", other.toString(), "--weights", weights.toString());
        assertEquals(Main.EXIT_FATAL, r.code());
        assertTrue(r.err().contains("was trained on squeezenet features from weights with SHA-256 0000"), r.err());
    }

    @Test
    void embeddedApiIsConsistentAndThreadSafe() throws Exception {
        List<Path> files = goodImages();
        try (Captioner c = Captioner.builder().beam(3).weights(weights).build(model)) {
            Caption fromPath = c.caption(files.get(0));
            Caption fromImage = c.caption(ImageIO.read(files.get(0).toFile()));
            Caption fromStream;
            try (var in = Files.newInputStream(files.get(0))) {
                fromStream = c.caption(in);
            }
            assertEquals(fromPath.text(), fromStream.text());
            assertEquals(fromPath.text(), fromImage.text());
            List<Caption> all = c.captionAll(files);
            assertEquals(files.size(), all.size());
            assertEquals(fromPath.text(), all.get(0).text());
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<String>> fs = new java.util.ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    Path f = files.get(i % files.size());
                    fs.add(pool.submit((Callable<String>) () -> c.caption(f).text()));
                }
                for (int i = 0; i < 8; i++) assertEquals(all.get(i % files.size()).text(), fs.get(i).get());
            } finally {
                pool.shutdown();
            }
        }
    }

    /**
     * The newer decoders caption images end to end (encoder, decoder, output), the CLI and the embedded API agreeing
     * word for word; hard attention's JSON carries one map per word (and the end) with the cell it read as peak_cells.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"gru, 2", "hard-attention, 1", "rnn, 2"})
    void otherDecodersCaptionImagesThroughCliAndApi(String decoder, int layers) throws Exception {
        Vocabulary v = Vocabulary.build(List.of("a dog runs on the grass", "a man rides a bike", "children play in water"), 1);
        DecoderType type = DecoderType.parse(decoder);
        var dec = Decoders.create(DecoderConfig.defaults(type, v.size(), 512, 169, 512).withSizes(16, 32, 0, 8).withLayers(layers), 1e-3, 3);
        Path m = dir.resolve("model-" + decoder + layers);
        ModelBundle.save(m, dec, v, "squeezenet", Hashing.sha256(weights), new ObjectMapper().createObjectNode());
        Path out = dir.resolve(decoder + layers + ".jsonl"), html = dir.resolve("report-" + decoder + layers);
        CliTest.Run r = CliTest.run("caption", images.toString(), "--model", m.toString(), "--weights", weights.toString(), "--no-progress",
                "--out", out.toString(), "--attention", "--html", html.toString());
        assertEquals(Main.EXIT_PARTIAL, r.code(), r.err());
        String report = Files.readString(html.resolve("index.html"));
        assertEquals(type == DecoderType.HARD_ATTENTION, report.contains("data-read-cell="), "the report outlines the cell hard attention read");
        List<String> lines = Files.readAllLines(out);
        assertEquals(6, lines.size());
        ObjectMapper json = new ObjectMapper();
        List<Path> files = goodImages();
        try (Captioner c = Captioner.builder().beam(3).weights(weights).build(m)) {
            for (int i = 0; i < files.size(); i++) {
                JsonNode row = json.readTree(lines.get(i));
                assertEquals(files.get(i).getFileName().toString(), row.get("image").asText());
                Caption api = c.caption(files.get(i));
                assertEquals(api.text(), row.get("caption").asText(), "CLI and API give the same caption");
                assertEquals(type.attends(), row.has("attention"), lines.get(i));
                if (!type.attends()) continue;
                JsonNode att = row.get("attention");
                int words = att.get("words").size();
                assertEquals(api.tokens().size() + 1, words, "a map per word and one for <end>");
                assertEquals(words, att.get("maps").size());
                for (int w = 0; w < words; w++) {
                    JsonNode map = att.get("maps").get(w);
                    assertEquals(169, map.size());
                    double sum = 0;
                    int peak = 0;
                    for (int k = 0; k < map.size(); k++) {
                        sum += map.get(k).asDouble();
                        if (map.get(k).asDouble() > map.get(peak).asDouble()) peak = k;
                    }
                    assertEquals(1.0, sum, 1e-3, "word " + w + "'s map is a distribution");
                    assertEquals(peak, att.get("peak_cells").get(w).asInt(), "peak_cells names the largest weight's cell");
                }
            }
        }
    }
}
