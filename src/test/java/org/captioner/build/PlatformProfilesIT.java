package org.captioner.build;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The pom's platform profiles pick each platform's native classifiers, read back through Maven itself
 * ({@code help:evaluate}) with the JVM's os.name / os.arch set as that platform reports them; nothing is
 * downloaded but the help plugin. Maven cannot start with a Windows os.name on Linux, so the Windows profile is
 * selected by name there.
 */
class PlatformProfilesIT {
    static final Path ROOT = Path.of("").toAbsolutePath();

    static String evaluate(String expression, String mavenOpts, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("mvn", "-q", "-B", "help:evaluate", "-Dexpression=" + expression, "-DforceStdout"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true);
        if (mavenOpts != null) pb.environment().put("MAVEN_OPTS", mavenOpts);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), out);
        return out.replaceAll("\u001B\\[[0-9;]*m", "").strip();
    }

    @Test
    void eachPlatformGetsItsNatives() throws Exception {
        String[][] platforms = {
                {"Linux", "amd64", "linux-x86_64", "linux-x86_64-onednn-avx2"},
                {"Linux", "aarch64", "linux-arm64", "linux-arm64"},
                {"Mac", "x86_64", "macosx-x86_64", "macosx-x86_64-onednn-avx2"},
                {"Mac", "aarch64", "macosx-arm64", "macosx-arm64"}};
        for (String[] p : platforms) {
            String opts = "-Dos.name=" + p[0] + " -Dos.arch=" + p[1];
            assertEquals(p[2], evaluate("javacpp.platform", opts), String.join(" ", p));
            assertEquals(p[3], evaluate("nd4j.classifier", opts), String.join(" ", p));
        }
        assertEquals("windows-x86_64-onednn-avx2", evaluate("nd4j.classifier", null, "-Pwindows-x86_64", "-P!linux-x86_64"));
        String pom = Files.readString(ROOT.resolve("pom.xml"));
        assertTrue(pom.contains("<id>windows-x86_64</id>\n      <activation><os><family>windows</family><arch>amd64</arch></os>"), "Windows is chosen by OS");
    }

    @Test
    void javacppPlatformOverridesTheProfiles() throws Exception {
        assertEquals("linux-arm64", evaluate("javacpp.platform", null, "-Djavacpp.platform=linux-arm64"));
        assertEquals("linux-arm64", evaluate("nd4j.classifier", null, "-Djavacpp.platform=linux-arm64"));
        assertEquals("macosx-arm64", evaluate("nd4j.classifier", null, "-Djavacpp.platform=macosx-x86_64", "-Dnd4j.classifier=macosx-arm64"));
    }
}
