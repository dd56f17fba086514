package org.captioner.cli;

import org.captioner.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Runs the README's main-job command exactly as written, through the ./captioner launcher, so it cannot rot. */
class ReadmeExamplesTest {
    static final Path ROOT = Path.of("").toAbsolutePath();

    static String mainJobCommand() throws Exception {
        List<String> lines = Files.readAllLines(ROOT.resolve("README.md"));
        int start = lines.indexOf("## Set up and run (fresh machine: Java 17 + Maven 3.8)");
        return lines.subList(start, lines.size()).stream().filter(l -> l.contains("./captioner ") && !l.startsWith("#"))
                .findFirst().orElseThrow(() -> new AssertionError("README has no main-job command"));
    }

    /**
     * A fresh machine with internet: the same command without CAPTIONER_WEIGHTS_DIR and with an empty cache downloads
     * the pinned weights by itself (a loopback mirror stands in for the internet) and captions the folder.
     */
    @Test
    void mainJobCommandFetchesItsWeightsWithoutWeightsDir(@org.junit.jupiter.api.io.TempDir Path cache) throws Exception {
        SharedData.require("data/coco/val2017");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isSameFile(ROOT.resolve("../shared"), SharedData.root()),
                "skipped: README paths assume ../shared beside the checkout");
        String cmd = mainJobCommand().replaceAll("CAPTIONER_WEIGHTS_DIR=\\S+ ", "").replaceAll("--out \\S+", "--out " + cache.resolve("caps.jsonl"));
        try (var server = new org.captioner.testing.WeightsServer()) {
            ProcessBuilder pb = new ProcessBuilder("bash", "-c", cmd).directory(ROOT.toFile()).redirectErrorStream(true);
            pb.environment().remove("CAPTIONER_WEIGHTS_DIR");
            pb.environment().put("CAPTIONER_WEIGHTS_MIRROR", server.mirror());
            pb.environment().put("CAPTIONER_WEIGHTS_CACHE", cache.resolve("weights").toString());
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(10, TimeUnit.MINUTES));
            assertEquals(0, p.exitValue(), "command: " + cmd + "\n" + out);
            assertEquals(1, server.requests.get(), "one download: " + out);
            try (var s = Files.list(cache.resolve("weights"))) {
                assertEquals(1, s.count(), "the verified weights file is cached, nothing else");
            }
            assertFalse(Files.readAllLines(cache.resolve("caps.jsonl")).isEmpty());
        }
    }

    @Test
    void mainJobCommandRuns() throws Exception {
        SharedData.require("weights");
        SharedData.require("data/coco/val2017");
        // The README refers to ../shared relative to the checkout; that is where the tests' shared data must be.
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isSameFile(ROOT.resolve("../shared"), SharedData.root()),
                "skipped: README paths assume ../shared beside the checkout");
        String cmd = mainJobCommand();
        Process p = new ProcessBuilder("bash", "-c", cmd).directory(ROOT.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), "command: " + cmd + "\n" + out);
        Path outFile = Path.of(cmd.replaceAll(".*--out (\\S+).*", "$1"));
        long images;
        try (var s = Files.list(SharedData.root().resolve("data/coco/val2017"))) {
            images = s.filter(f -> f.toString().endsWith(".jpg")).count();
        }
        List<String> lines = Files.readAllLines(outFile);
        assertEquals(images, lines.size(), out);
        for (String line : lines) {
            var n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
            assertTrue(n.has("caption") && n.get("caption").asText().split(" ").length >= 2, line);
        }
    }
}
