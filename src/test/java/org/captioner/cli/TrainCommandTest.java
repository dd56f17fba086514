package org.captioner.cli;

import org.captioner.model.ModelBundle;
import org.captioner.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TrainCommandTest {
    @TempDir
    Path dir;

    /** A tiny training (the Maven route runs the same command: MavenExecRouteIT); then decode + evaluate. */
    @Test
    void tinyTrainingThenDecodeAndEvaluate() throws Exception {
        TinyData.write(dir, 18, 5);
        Path caps = dir.resolve("captions.tsv"), feats = dir.resolve("features"), out = dir.resolve("model");
        var run = CliTest.run("train", "--data", "tsv", "--captions", caps.toString(), "--dev-captions", caps.toString(), "--features",
                feats.toString(), "--decoder", "lstm", "--out", out.toString(), "--epochs", "2", "--batch", "8", "--min-count", "1",
                "--embed", "16", "--hidden", "32", "--lr", "5e-3");
        assertEquals(0, run.code(), run.err());
        ModelBundle.load(out);
        assertEquals(3, Files.readAllLines(out.resolve("training-log.csv")).size());

        Path results = dir.resolve("dev.jsonl");
        assertEquals(0, CliTest.run("decode", "--model", out.toString(), "--features", feats.toString(), "--out", results.toString()).code());
        assertEquals(18, Files.readAllLines(results).size());
        var r = org.captioner.eval.EvaluateCommandTest.run("evaluate", "--refs", caps.toString(), "--results", results.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"images\":18"), r.out());
        // length normalisation chosen on the references and recorded in the bundle as its default
        var t = CliTest.run("decode", "--model", out.toString(), "--features", feats.toString(), "--out", results.toString(),
                "--captions", caps.toString(), "--tune-length-alpha", "0,1");
        assertEquals(0, t.code(), t.err());
        assertTrue(t.err().contains("length alpha 0.00: CIDEr-D") && t.err().contains("length alpha 1.00: CIDEr-D"), t.err());
        double alpha = ModelBundle.load(out).recommendedLengthAlpha();
        assertTrue(alpha == 0 || alpha == 1, "recorded " + alpha);
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"chosen_by\""));
        assertEquals(Main.EXIT_USAGE, CliTest.run("decode", "--model", out.toString(), "--features", feats.toString(), "--out",
                results.toString(), "--tune-length-alpha", "0.5").code(), "tuning needs references");
    }

    /** The new decoders end to end through the CLI: train, then decode with beam search and greedy (sampling: SelfCriticalTest). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"gru, 2", "hard-attention, 1"})
    void gruStackedAndHardAttentionTrainAndDecodeThroughTheCli(String decoder, int layers) throws Exception {
        TinyData.write(dir, 18, 5);
        Path caps = dir.resolve("captions.tsv"), feats = dir.resolve("features"), out = dir.resolve("model");
        var t = CliTest.run("train", "--data", "tsv", "--captions", caps.toString(), "--dev-captions", caps.toString(), "--features",
                feats.toString(), "--decoder", decoder, "--layers", String.valueOf(layers), "--out", out.toString(), "--epochs", "2",
                "--batch", "8", "--min-count", "1", "--embed", "16", "--hidden", "32", "--lr", "5e-3");
        assertEquals(0, t.code(), t.err());
        ModelBundle m = ModelBundle.load(out);
        assertEquals(decoder, m.config().type().id());
        assertEquals(layers, m.config().layers());
        assertEquals(decoder, m.training().get("options").get("decoder").asText().toLowerCase().replace('_', '-'));
        for (String[] how : List.of(new String[] {"--beam", "3"}, new String[] {"--beam", "1"})) {
            Path results = dir.resolve("dev" + how[1] + ".jsonl");
            var d = CliTest.run("decode", "--model", out.toString(), "--features", feats.toString(), "--out", results.toString(), how[0], how[1]);
            assertEquals(0, d.code(), d.err());
            List<String> lines = Files.readAllLines(results);
            assertEquals(18, lines.size());
            assertTrue(lines.stream().allMatch(l -> l.contains("\"caption\"")), lines.get(0));
        }
    }

    @Test
    void badTrainingOptionsAreUsageErrors() {
        var r = CliTest.run("train", "--data", "imagenet", "--captions", "x", "--features", "y", "--out", dir.toString());
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("unknown --data 'imagenet'"), r.err());
        r = CliTest.run("train", "--data", "tsv", "--captions", "x", "--features", "y", "--out", dir.toString(), "--lr", "5");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--lr must be in"), r.err());
        r = CliTest.run("train", "--data", "tsv", "--captions", "x", "--features", "y", "--out", dir.toString(), "--decoder", "transformer");
        assertTrue(r.err().contains("unknown decoder 'transformer'") && r.err().contains("hard-attention"), r.err());
        r = CliTest.run("train", "--data", "tsv", "--captions", "x", "--features", "y", "--out", dir.toString(), "--layers", "0");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--layers must be"), r.err());
        r = CliTest.run("train", "--data", "tsv", "--captions", "x", "--features", "y", "--out", dir.toString(), "--decoder", "attention",
                "--layers", "2");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--layers is for rnn, lstm and gru"), r.err());
        r = CliTest.run("train", "--data", "tsv", "--captions", "x", "--features", "y", "--out", dir.toString(), "--attention-map", "hardmax");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("unknown attention map 'hardmax'"), r.err());
        r = CliTest.run("train", "--data", "tsv", "--captions", "x", "--features", "y", "--out", dir.toString(), "--attention-lambda", "-1");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--attention-lambda must be in"), r.err());
    }
}
