package org.captioner.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code bench train-scale} at a small size: a synthetic features folder, training steps in a child JVM, a figures row, nothing left behind. */
class BenchTrainScaleTest {
    @TempDir
    Path dir;

    @Test
    void trainsOnASyntheticFolderAndRemovesIt() throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.commandLine().execute("bench", "train-scale", "--images", "60", "--steps", "2", "--batch", "16", "--dir", dir.toString());
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(Main.EXIT_OK, code, out);
        String row = out.lines().filter(l -> l.startsWith("60 ")).findFirst().orElseThrow(() -> new AssertionError(out));
        String[] f = row.trim().split("\\s+");              // images, disk GB, write s, first step s, steps/s, peak RSS GB
        assertEquals("GB", f[2], row);
        assertTrue(Double.parseDouble(f[5]) > 0, "steps/s: " + row);
        assertTrue(Double.parseDouble(f[6]) > 0.1, "peak RSS of the training JVM: " + row);
        try (var s = Files.list(dir)) {
            assertEquals(0, s.count(), "the synthetic folders are removed");
        }
    }

    @Test
    void madeUpWordsAreAlphabetic() {
        assertEquals("a", BenchTrainScaleCommand.word(0));
        assertEquals("z", BenchTrainScaleCommand.word(25));
        assertEquals("ba", BenchTrainScaleCommand.word(26));
    }
}
