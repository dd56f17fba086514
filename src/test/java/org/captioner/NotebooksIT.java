package org.captioner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.testing.SharedData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The notebooks never rot: every one is executed headless by Debian's Jupyter with the Java kernel
 * ({@code notebooks/run.sh}, into a temp folder) and must run without an error and produce its plots, tables and
 * captions; the committed copies must carry outputs for every code cell.
 */
class NotebooksIT {
    static final Path NOTEBOOKS = Path.of("notebooks").toAbsolutePath();
    static final ObjectMapper JSON = new ObjectMapper();

    static List<Path> notebooks() throws Exception {
        try (Stream<Path> s = Files.list(NOTEBOOKS)) {
            return s.filter(p -> p.getFileName().toString().matches("\\d\\d-.*\\.ipynb")).sorted().toList();
        }
    }

    @Test
    void committedNotebooksCarryTheirOutputs() throws Exception {
        List<Path> books = notebooks();
        assertTrue(books.size() >= 4, "notebooks: " + books);
        for (Path b : books) {
            for (JsonNode cell : JSON.readTree(b.toFile()).get("cells")) {
                if (cell.get("cell_type").asText().equals("code")) {
                    assertFalse(cell.get("outputs").isEmpty(), b.getFileName() + ": a code cell without output:\n" + cell.get("source"));
                    for (JsonNode o : cell.get("outputs")) assertNotEquals("error", o.path("output_type").asText(), b.getFileName() + ": " + o);
                }
            }
        }
    }

    @Test
    void notebooksExecuteHeadless(@TempDir Path out) throws Exception {
        SharedData.require("data/flickr8k/Flickr8k.token.txt");
        SharedData.mobilenetWeights();                                  // the default model's encoder
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "skipped: no /usr/bin/python3 for Jupyter");
        ProcessBuilder pb = new ProcessBuilder("bash", NOTEBOOKS.resolve("run.sh").toString(), "--out", out.toString())
                .redirectErrorStream(true);
        pb.environment().put("CAPTIONER_SHARED", SharedData.root().toString());
        pb.environment().put("CAPTIONER_WEIGHTS_DIR", SharedData.root().resolve("weights").toString());
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.MINUTES), "notebooks timed out");
        Assumptions.assumeFalse(p.exitValue() == 3, "skipped: Jupyter is not installed and cannot be (not root)\n" + log);
        assertEquals(0, p.exitValue(), tail(log));
        for (Path b : notebooks()) {
            Path executed = out.resolve(b.getFileName());
            assertTrue(Files.exists(executed), "not executed: " + b.getFileName());
            int png = 0, html = 0, text = 0;
            for (JsonNode cell : JSON.readTree(executed.toFile()).get("cells")) {
                for (JsonNode o : cell.path("outputs")) {
                    assertNotEquals("error", o.path("output_type").asText(), b.getFileName() + ": " + o);
                    if (o.path("data").has("image/png")) png++;
                    if (o.path("data").has("text/html")) html++;
                    if (o.path("output_type").asText().equals("stream")) text++;
                }
            }
            String name = b.getFileName().toString();
            if (name.startsWith("01")) assertTrue(png >= 2 && html >= 1, name + ": plots and example captions expected");
            if (name.startsWith("02")) assertTrue(html >= 1 && text >= 2, name + ": caption table and samples expected");
            if (name.startsWith("03")) assertTrue(png >= 1 && html >= 2 && countHeatmaps(executed) >= 20, name + ": attention heatmaps and a plot expected");
            if (name.startsWith("04")) assertTrue(png >= 2 && html >= 1, name + ": training curves and results table expected");
        }
    }

    /** Inline JPEGs in the HTML outputs: each word's attention overlay is one. */
    static int countHeatmaps(Path notebook) throws Exception {
        int n = 0;
        for (JsonNode cell : JSON.readTree(notebook.toFile()).get("cells")) {
            for (JsonNode o : cell.path("outputs")) {
                JsonNode h = o.path("data").path("text/html");
                String text = h.isArray() ? String.join("", JSON.convertValue(h, String[].class)) : h.asText();
                n += text.split("data:image/jpeg;base64,", -1).length - 1;
            }
        }
        return n;
    }

    private static String tail(String log) {
        return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
    }
}
