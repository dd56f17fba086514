package org.captioner.util;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** Progress where stderr is not a terminal (as under the test runner, CI, or a log file): plain lines, no bar. */
class ProgressTest {
    static String run(boolean enabled, long resumeAt) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try (Progress p = Progress.start("caption", 10, "images", enabled)) {
            if (resumeAt > 0) p.resumeAt(resumeAt);
            for (long i = resumeAt; i < 10; i++) p.step();
            p.setExtraMessage(", loss 1.5");
        } finally {
            System.setErr(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void notATerminalGetsPlainLinesAndOffGetsNothing() {
        assertFalse(Progress.stderrIsTerminal(), "the test runner's stderr is a pipe or a file");
        String out = run(true, 0);
        assertTrue(out.startsWith("caption: 10/10 images (100%), "), out);
        assertTrue(out.strip().endsWith(", loss 1.5"), out);
        assertFalse(out.contains("\r"), "no redrawn bar: " + out);
        assertEquals("", run(false, 0));
        assertTrue(run(true, 4).startsWith("caption: 10/10 images (100%)"));
    }

    @Test
    void durationsReadAsAPersonWritesThem() {
        assertEquals("42 s", Progress.duration(42.4));
        assertEquals("3 min 05 s", Progress.duration(185));
        assertEquals("2 h 10 min", Progress.duration(7800));
    }
}
