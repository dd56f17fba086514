package org.captioner.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** {@code bench decoder --like MODEL_DIR} times the decoder at that model's sizes. */
class BenchDecoderTest {
    static String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(Main.EXIT_OK, Main.commandLine().execute(args));
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void likeTakesTheBundlesSizes() {
        String out = run("bench", "decoder", "--decoder", "attention", "--like", "models/default", "--batch", "4", "--steps", "3", "--iterations", "1");
        assertTrue(out.contains("(8571621 parameters; image 1280, grid 49 x 1280, sizes of models/default)"), out);
        out = run("bench", "decoder", "--decoder", "gru", "--batch", "4", "--steps", "3", "--iterations", "1");
        assertTrue(out.contains("image 512, grid 169 x 512)"), "without --like: SqueezeNet's sizes, as before: " + out);
    }
}
