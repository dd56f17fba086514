package org.captioner.cli;

import org.captioner.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs the README's main-job command and the documented examples (docs/serve.md, docs/spark.md) as written, through
 * the ./captioner launcher, so they cannot rot.
 */
class ReadmeExamplesIT {
    static final Path ROOT = Path.of("").toAbsolutePath();

    /** The README's main command (the first of its section), its outputs moved into {@code tmp}. */
    static String mainJobCommand(Path tmp) throws Exception {
        String cmd = bashLinesUnder("README.md", "## Caption the example photos").get(0);
        assertEquals("./captioner caption examples/images --html report/ --out report/captions.jsonl", cmd);
        return cmd.replace("report/", tmp.resolve("report") + "/");
    }

    static long exampleImages() throws Exception {
        try (var s = Files.list(ROOT.resolve("examples/images"))) {
            return s.filter(f -> f.toString().endsWith(".jpg")).count();
        }
    }

    /**
     * A fresh machine with internet: the same command without CAPTIONER_WEIGHTS_DIR and with an empty cache downloads
     * the pinned weights by itself (a loopback mirror stands in for the internet) and captions the folder.
     */
    @Test
    void mainJobCommandFetchesItsWeightsWithoutWeightsDir(@org.junit.jupiter.api.io.TempDir Path cache) throws Exception {
        SharedData.mobilenetWeights();                              // what the loopback mirror serves
        String cmd = mainJobCommand(cache);
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
            assertEquals(exampleImages(), Files.readAllLines(cache.resolve("report/captions.jsonl")).size());
        }
    }

    /** The main command as the README gives it for a machine without internet: CAPTIONER_WEIGHTS_DIR set. */
    @Test
    void mainJobCommandRuns(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path weights = SharedData.mobilenetWeights().getParent();
        String cmd = mainJobCommand(tmp);
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", cmd).directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().put("CAPTIONER_WEIGHTS_DIR", weights.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), "command: " + cmd + "\n" + out);
        List<String> lines = Files.readAllLines(tmp.resolve("report/captions.jsonl"));
        assertEquals(exampleImages(), lines.size(), out);
        assertTrue(Files.readString(tmp.resolve("report/index.html")).contains("tennis.jpg"), "the HTML report lists the photos");
        for (String line : lines) {
            var n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
            assertTrue(n.has("caption") && n.get("caption").asText().split(" ").length >= 2, line);
        }
    }

    /** The lines of a document's bash blocks in the section under the given heading (up to the next heading). */
    static List<String> bashLinesUnder(String doc, String heading) throws Exception {
        List<String> lines = Files.readAllLines(ROOT.resolve(doc));
        int h = lines.indexOf(heading);
        assertTrue(h >= 0, doc + " has no heading " + heading);
        List<String> out = new java.util.ArrayList<>();
        boolean in = false;
        for (String l : lines.subList(h + 1, lines.size())) {
            if (!in && l.startsWith("#")) break;
            if (l.equals("```bash")) in = true;
            else if (in && l.equals("```")) in = false;
            else if (in) out.add(l);
        }
        return out;
    }

    /**
     * The README's serve section as written: its command through ./captioner (on a free port), each curl example
     * against it with real photos, the page, then SIGTERM: a graceful stop with exit code 0.
     */
    @Test
    void serveSectionWorksAsWritten() throws Exception {
        SharedData.require("weights");
        Path coco = SharedData.require("data/coco/val2017");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isSameFile(ROOT.resolve("../shared"), SharedData.root()),
                "skipped: README paths assume ../shared beside the checkout");
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        String start = bashLinesUnder("docs/serve.md", "## `serve`: captions over HTTP").get(0).replaceAll("\\s*#.*", "").replace("--port 8080", "--port " + port);
        assertTrue(start.contains("./captioner serve"), start);
        Process server = new ProcessBuilder("bash", "-c", start.replace("./captioner", "exec ./captioner")).directory(ROOT.toFile()).redirectErrorStream(true).start();
        try {
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder log = new StringBuilder();
            boolean serving = false;
            for (String l; !serving && (l = in.readLine()) != null; ) {
                log.append(l).append('\n');
                serving = l.startsWith("serving on http://127.0.0.1:" + port + "/");
            }
            assertTrue(serving && server.isAlive(), "serve did not start: " + start + "\n" + log);
            Thread drain = new Thread(() -> {                          // keep reading its logs so it never blocks
                try {
                    in.transferTo(java.io.Writer.nullWriter());
                } catch (java.io.IOException ignored) {
                }
            });
            drain.setDaemon(true);
            drain.start();
            List<Path> photos;
            try (var st = Files.list(coco)) {
                photos = st.filter(f -> f.toString().endsWith(".jpg")).sorted().limit(3).toList();
            }
            var json = new com.fasterxml.jackson.databind.ObjectMapper();
            int curls = 0;
            for (String line : bashLinesUnder("docs/serve.md", "## `serve`: captions over HTTP")) {
                if (!line.startsWith("curl ")) continue;
                String cmd = line.replaceAll("\\s+#.*", "").replace("8080", String.valueOf(port)).replace("@photo.jpg", "@" + photos.get(0))
                        .replace("@a.jpg", "@" + photos.get(1)).replace("@b.png", "@" + photos.get(2));
                Process c = new ProcessBuilder("bash", "-c", cmd).redirectErrorStream(true).start();
                String out = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(c.waitFor(2, TimeUnit.MINUTES));
                assertEquals(0, c.exitValue(), cmd + ": " + out);
                curls++;
                if (cmd.contains("/metrics")) {
                    assertTrue(out.contains("captioner_requests_total"), out);
                    continue;
                }
                var n = json.readTree(out);
                if (cmd.contains("/v1/captions") && cmd.contains("-F ")) {
                    assertEquals(2, n.size(), out);
                    for (var item : n) assertTrue(item.get("caption").asText().split(" ").length >= 2, out);
                } else if (cmd.contains("/v1/captions")) {
                    assertEquals(2, n.get("nbest").size(), out);
                    assertEquals("[7,7]", n.get("attention").get("grid").toString(), "the default model attends over 7 x 7 cells");
                } else if (cmd.contains("/healthz") || cmd.contains("/readyz")) {
                    assertEquals("ready", n.get("status").asText());
                } else if (cmd.contains("/v1/model")) {
                    assertEquals("attention", n.get("decoder").asText());
                }
            }
            assertEquals(6, curls, "the six curl examples of docs/serve.md ran");
            var page = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + port + "/")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("app.js"));
            server.destroy();                                          // SIGTERM: drain and exit 0
            assertTrue(server.waitFor(60, TimeUnit.SECONDS), "stopped after SIGTERM");
            assertEquals(0, server.exitValue());
        } finally {
            server.destroyForcibly();
        }
    }

    /**
     * The Spark section's local-mode example as written (its continuation lines joined), through ./captioner spark,
     * which resolves Spark's jars itself: one JSON-lines row per COCO photo.
     */
    @Test
    void sparkLocalModeExampleWorksAsWritten(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        SharedData.require("weights");
        Path coco = SharedData.require("data/coco/val2017");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isSameFile(ROOT.resolve("../shared"), SharedData.root()),
                "skipped: README paths assume ../shared beside the checkout");
        List<String> lines = bashLinesUnder("docs/spark.md", "# Scale-out on Spark");
        int i = 0;
        while (!lines.get(i).contains("./captioner spark caption --master 'local[2]'")) i++;
        StringBuilder cmd = new StringBuilder(lines.get(i));
        while (cmd.toString().endsWith("\\")) {
            cmd.setLength(cmd.length() - 1);
            cmd.append(' ').append(lines.get(++i).strip());
        }
        assertTrue(cmd.toString().contains("--out /tmp/coco-spark"), cmd.toString());
        Path out = tmp.resolve("coco-spark");
        String run = cmd.toString().replace("--out /tmp/coco-spark", "--out " + out);
        Process p = new ProcessBuilder("bash", "-c", run).directory(ROOT.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), run + "\n" + log.substring(Math.max(0, log.length() - 4000)));
        long images;
        try (var st = Files.list(coco)) {
            images = st.filter(f -> org.captioner.image.ImageFiles.hasImageExtension(f)).count();
        }
        long rows = 0;
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        try (var parts = Files.list(out)) {
            for (Path part : parts.filter(f -> f.getFileName().toString().startsWith("part-")).toList()) {
                for (String l : Files.readAllLines(part)) {
                    var n = json.readTree(l);
                    assertEquals(3, n.get("nbest").size(), l);
                    assertTrue(n.get("caption").asText().split(" ").length >= 3, l);
                    rows++;
                }
            }
        }
        assertEquals(images, rows, "one row per photo");
    }
}
