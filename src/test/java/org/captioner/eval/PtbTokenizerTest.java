package org.captioner.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import edu.stanford.nlp.process.PTBTokenizer;
import org.captioner.testing.SharedData;
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
     * The hand-written tokenizer against CoreNLP 3.4.1 itself (test scope: it is GPL-2.0) on every caption of the
     * Flickr8k captions file and of COCO val2017, each set read as one text as coco-caption does.
     */
    @Test
    void equalsCoreNlpOnEveryFlickr8kAndCocoCaption() throws Exception {
        List<String> flickr = new ArrayList<>();
        for (String line : Files.readAllLines(SharedData.require("data/flickr8k/Flickr8k.token.txt"), StandardCharsets.UTF_8)) {
            int tab = line.indexOf('\t');
            if (tab >= 0) flickr.add(line.substring(tab + 1));
        }
        List<String> coco = new ArrayList<>();
        JsonNode root = new ObjectMapper().readTree(SharedData.require("data/coco/annotations/captions_val2017.json").toFile());
        for (JsonNode a : root.get("annotations")) coco.add(a.get("caption").asText());
        assertTrue(flickr.size() >= 35_000 && coco.size() >= 25_000, flickr.size() + " / " + coco.size());
        for (List<String> captions : List.of(flickr, coco)) {
            List<String> ours = PtbTokenizer.tokenize(captions);
            List<String> reference = CoreNlpPtbTokenizer.tokenize(captions);
            int differ = 0;
            StringBuilder first = new StringBuilder();
            for (int i = 0; i < captions.size(); i++) {
                if (ours.get(i).equals(reference.get(i))) continue;
                if (differ++ < 5) first.append("\n  ").append(captions.get(i)).append("\n    CoreNLP: ").append(reference.get(i))
                        .append("\n    ours:    ").append(ours.get(i));
            }
            assertEquals(0, differ, differ + " of " + captions.size() + " captions differ:" + first);
        }
    }

    /** Cases the caption sets hold rarely or not at all, one rule each, against CoreNLP. */
    @Test
    void equalsCoreNlpOnEachRule() {
        List<String> cases = List.of("We cannot go, gonna gotta wanna lemme gimme", "'Tis 'twas y'all", "slip 'n' slide, rock 'n roll",
                "a 'no peddling' sign", "W. The dog", "a sign that reads K.", "A person I. A hood", "W. Centre st.",
                "8th ave. and 22 3/4 st.", "Ft. Spokane in KY.", "the U.S. The dog", "T.V.. the", "reads 11:44. 10.14 1,000",
                "10-29-2011. e-mail@foo.com www.foo.com http://a.b/c?d", "at&t AT&T and/or km/h", "x --- y ----- z -- w - v",
                "x .... y . . . z", "#1 ## @ _ __ $5 US$ 50% ~ ^ | \\ =", "(5) [x] {y} <z>", "'90s '90 the kids' toy's",
                "isn't can't won't don't I'm you're we've they'd she'll", "street.A stair.s sidewalk.outside.",
                "o'clock d'oeuvre Pe'e Ho'ohu", "\u201cquoted\u201d \u2018single\u2019 it\u2019s", "Caf\u00e9 na\u00efve Stra\u00dfe",
                "etc. The", "Mr. A x", "x Fig. The", "555-123-4567", "one...two\u2026three");
        assertEquals(CoreNlpPtbTokenizer.tokenize(cases), PtbTokenizer.tokenize(cases));
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
        assertEquals(CoreNlpPtbTokenizer.tokenize(sentences), cli.subList(0, sentences.size()));
        assertEquals(PtbTokenizer.tokenize(sentences), cli.subList(0, sentences.size()));
    }
}
