package org.captioner.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.cli.Main;
import org.captioner.data.CaptionDataset;
import org.captioner.data.ImageCaptions;
import org.captioner.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

public class EvaluateCommandTest {
    @TempDir
    Path dir;

    public record Run(int code, String out, String err) {
    }

    public static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void cocoResultsJsonByImageId() throws Exception {
        Path refs = SharedData.require("data/coco/annotations/captions_val2017.json");
        CaptionDataset ds = CaptionDataset.load(refs);
        List<ImageCaptions> some = ds.images().subList(0, 50);
        StringBuilder sb = new StringBuilder("[");
        for (ImageCaptions ic : some) {
            if (sb.length() > 1) sb.append(',');
            sb.append("{\"image_id\": ").append(ic.cocoId()).append(", \"caption\": \"a photo of something\"}");
        }
        Path results = Files.writeString(dir.resolve("results.json"), sb.append(']').toString());
        Run r = run("evaluate", "--refs", refs.toString(), "--results", results.toString(), "--json", "--per-image", dir.resolve("per.jsonl").toString());
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(50, j.get("images").asInt());
        assertEquals(4950, j.get("references_without_result").asInt());
        for (String k : Scores.METRICS) assertTrue(j.has(k), k);
        assertTrue(r.err().contains("4950 of 5000 reference images have no result"), r.err());
        // Scores equal the library's on the same pairs.
        Scores direct = Scores.of(some.stream().map(ic -> "" + ic.cocoId()).toList(),
                some.stream().map(ic -> "a photo of something").toList(), some.stream().map(ImageCaptions::captions).toList());
        assertEquals(direct.get("CIDEr-D"), j.get("CIDEr-D").asDouble(), 1e-12);
        assertEquals(50, Files.readAllLines(dir.resolve("per.jsonl")).size());
    }

    @Test
    void flickrTokenFileWithJsonlByFileNameAndTable() throws Exception {
        Path refs = SharedData.require("data/flickr8k/Flickr8k.token.txt");
        CaptionDataset ds = CaptionDataset.load(refs);
        StringBuilder sb = new StringBuilder();
        List<ImageCaptions> dev = ds.split("dev");
        for (ImageCaptions ic : dev) {
            sb.append("{\"image\": \"images/").append(ic.file()).append("\", \"caption\": ")
                    .append(new ObjectMapper().writeValueAsString(ic.captions().get(0))).append("}\n");
        }
        sb.append("{\"image\": \"broken.jpg\", \"error\": \"corrupt\"}\n");
        Path results = Files.writeString(dir.resolve("captions.jsonl"), sb.toString());
        Run r = run("evaluate", "--refs", refs.toString(), "--split", "dev", "--results", results.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("scored 1000 images") && r.out().contains("CIDEr-D"), r.out());
        assertTrue(r.err().contains("1 result lines were errors"), r.err());
    }

    @Test
    void badInputsAreClearErrors() throws Exception {
        Path refs = Files.writeString(dir.resolve("refs.tsv"), "a.jpg\ta cat\nb.jpg\ta dog\n");
        Path malformed = Files.writeString(dir.resolve("r.json"), "[{\"image_id\": 1, \"caption\": \"x\"},\n {\"image_id\": }]");
        Run r = run("evaluate", "--refs", refs.toString(), "--results", malformed.toString());
        assertEquals(Main.EXIT_FATAL, r.code());
        assertTrue(r.err().contains("malformed JSON") && r.err().contains("line 2"), r.err());

        Path unknown = Files.writeString(dir.resolve("u.tsv"), "a.jpg\ta cat\nzzz.jpg\ta dog\n");
        r = run("evaluate", "--refs", refs.toString(), "--results", unknown.toString());
        assertEquals(Main.EXIT_FATAL, r.code());
        assertTrue(r.err().contains("1 results name images not in the references") && r.err().contains("zzz.jpg"), r.err());
        r = run("evaluate", "--refs", refs.toString(), "--results", unknown.toString(), "--ignore-unknown");
        assertEquals(0, r.code(), r.err());

        Path empty = Files.writeString(dir.resolve("e.jsonl"), "  \n");
        r = run("evaluate", "--refs", refs.toString(), "--results", empty.toString());
        assertEquals(Main.EXIT_FATAL, r.code());
        assertTrue(r.err().contains("is empty"), r.err());

        Path dup = Files.writeString(dir.resolve("d.tsv"), "a.jpg\ta cat\na.jpg\tanother\n");
        r = run("evaluate", "--refs", refs.toString(), "--results", dup.toString());
        assertTrue(r.err().contains("two results for image a.jpg"), r.err());
    }
}
