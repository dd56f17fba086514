package org.captioner.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

public class CliTest {
    @TempDir
    Path dir;

    public record Run(int code, String err) {
    }

    public static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, err.toString());
    }

    @Test
    void everyCommandHasHelp() {
        for (String c : new String[] {"features", "bench", "evaluate"}) {
            CommandLine cl = Main.commandLine();
            StringWriter out = new StringWriter();
            cl.setOut(new PrintWriter(out));
            assertEquals(0, cl.execute(c, "--help"));
            assertTrue(out.toString().contains("Usage: captioner " + c), out.toString());
        }
    }

    @Test
    void outOfRangeOptionsAreUsageErrors() {
        Run r = run("features", "--out", dir.toString(), "--batch", "0", dir.toString());
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("--batch must be >= 1"), r.err());
        r = run("features", "--out", dir.toString(), "--encoder", "resnet", dir.toString());
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().contains("unknown encoder 'resnet'"), r.err());
    }

    @Test
    void emptyFolderIsFatalWithMessage() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertEquals(Main.EXIT_FATAL, run("features", "--out", dir.resolve("o").toString(), empty.toString()).code());
    }

    @Test
    void missingWeightsIsFatalNamingTheFile() throws Exception {
        Path img = dir.resolve("a.png");
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(8, 8, 1), "png", img.toFile());
        Run r = run("features", "--out", dir.resolve("o").toString(), "--weights", dir.resolve("nope.h5").toString(), img.toString());
        assertEquals(Main.EXIT_FATAL, r.code());
        assertTrue(r.err().contains("nope.h5") && r.err().contains("does not exist"), r.err());
    }
}
