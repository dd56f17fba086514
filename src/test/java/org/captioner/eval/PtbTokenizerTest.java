package org.captioner.eval;

import edu.stanford.nlp.process.PTBTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PtbTokenizerTest {
    @TempDir
    Path dir;

    static final List<String> SENTENCES = List.of(
            "A man (in a red hat) rides a \"bike\".",
            "Two dogs -- playing; in the snow... Isn't it?",
            "Café naïve 3.5 km/h, U.S. cars & trucks {ok} [x]",
            "",
            "A DOG!!",
            "Line one\nline two",
            "it's the kids' toy, isn't it: yes - no");

    @Test
    void matchesCocoCaptionPostProcessing() {
        List<String> t = PtbTokenizer.tokenize(SENTENCES);
        assertEquals("a man -lrb- in a red hat -rrb- rides a bike", t.get(0));
        assertEquals("two dogs playing in the snow is n't it", t.get(1));
        assertEquals("café naïve 3.5 km/h u.s. cars & trucks -lcb- ok -rcb- -lsb- x -rsb-", t.get(2));
        assertEquals("", t.get(3));
        assertEquals("a dog !!", t.get(4));
        assertEquals("line one line two", t.get(5));
        assertEquals(SENTENCES.size(), t.size());
    }

    /**
     * The same sentences through the CoreNLP command-line entry point coco-caption shells out to
     * ({@code PTBTokenizer -preserveLines -lowerCase FILE}), then coco-caption's punctuation filter.
     */
    @Test
    void agreesWithTheCommandLineTokenizerCocoCaptionRuns() throws Exception {
        List<String> sentences = new ArrayList<>(SENTENCES.stream().map(s -> s.replace('\n', ' ')).toList());
        sentences.remove(""); // the CLI prints blank lines for empty input lines inconsistently across versions
        Path f = dir.resolve("in.txt");
        Files.writeString(f, String.join("\n", sentences), StandardCharsets.UTF_8);
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            PTBTokenizer.main(new String[] {"-preserveLines", "-lowerCase", f.toString()});
        } finally {
            System.setOut(old);
        }
        List<String> cli = new ArrayList<>();
        for (String line : buf.toString(StandardCharsets.UTF_8).split("\n", -1)) {
            if (line.startsWith("PTBTokenizer tokenized")) continue;
            cli.add(String.join(" ", Arrays.stream(line.stripTrailing().split(" ", -1))
                    .filter(w -> !PtbTokenizer.PUNCTUATION.contains(w)).toList()));
        }
        assertEquals(PtbTokenizer.tokenize(sentences), cli.subList(0, sentences.size()));
    }
}
