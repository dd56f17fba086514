package org.captioner;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.cli.Main;
import org.captioner.testing.SharedData;
import org.captioner.testing.TinyModels;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The embedded API and the CLI give the same record for the same images and options, byte for byte: both are the one
 * pipeline (serve and Spark are checked against the CLI in CaptionServerTest and SparkJobsIT).
 */
class ApiMatchesCliTest {
    @TempDir
    Path dir;

    /** With and without trigram blocking (a search option both take, each its own way). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void captionStreamRecordsAreTheCliJsonlLines(boolean blockTrigrams) throws Exception {
        Path weights = SharedData.squeezenetWeights();
        Path model = TinyModels.squeezenetAttention(dir, "api test fixture");
        Path in = Files.createDirectories(dir.resolve("in"));
        try (var s = Files.list(SharedData.require("data/coco/val2017"))) {
            for (Path p : s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(5).toList()) Files.copy(p, in.resolve(p.getFileName()));
        }
        Files.writeString(in.resolve("zz-broken.jpg"), "not an image");
        Path out = dir.resolve("cli.jsonl");
        List<String> args = new ArrayList<>(List.of("caption", in.toString(), "--model", model.toString(), "--weights",
                weights.toString(), "--nbest", "2", "--attention", "--no-progress", "--out", out.toString()));
        if (blockTrigrams) args.add("--block-trigrams");
        assertEquals(Main.EXIT_PARTIAL, Main.commandLine().execute(args.toArray(String[]::new)));
        List<String> api = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try (Captioner c = Captioner.builder().nbest(2).blockTrigrams(blockTrigrams).weights(weights).build(model)) {
            List<ImageInput> inputs = new ArrayList<>();
            try (var s = Files.list(in)) {
                for (Path p : s.sorted().toList()) inputs.add(ImageInput.of(p.getFileName().toString(), Files.readAllBytes(p)));
            }
            for (Iterator<CaptionRecord> it = c.captionStream(inputs.iterator()); it.hasNext(); ) {
                api.add(json.writeValueAsString(it.next().json(true, true, true)));
            }
        }
        assertEquals(Files.readAllLines(out), api);
    }
}
