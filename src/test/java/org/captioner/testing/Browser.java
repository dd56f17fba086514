package org.captioner.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Headless Chromium (Debian package {@code chromium}) for checking HTML output as a browser renders it.
 * Found at {@code $CHROMIUM} or {@code /usr/bin/chromium}; tests skip with a message where it is absent
 * ({@code run-tests} installs it when it can, so CI always has it).
 */
public final class Browser {
    private Browser() {
    }

    public static Path require() {
        String env = System.getenv("CHROMIUM");
        Path p = Path.of(env != null && !env.isBlank() ? env : "/usr/bin/chromium");
        Assumptions.assumeTrue(Files.isExecutable(p),
                "skipped: no headless browser at " + p + " (install Debian's chromium or set CHROMIUM)");
        return p;
    }

    private static List<String> base(Path chromium, Path profile) {
        // Flags for a closed network and a root user (no sandbox), as this workplace documents.
        return new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--allow-file-access-from-files", "--user-data-dir=" + profile, "--window-size=1280,1000",
                "--virtual-time-budget=5000"));
    }

    /** The DOM after the page's scripts ran. */
    public static String dumpDom(Path chromium, Path page, Path profile) throws IOException, InterruptedException {
        List<String> cmd = base(chromium, profile);
        cmd.add("--dump-dom");
        cmd.add(page.toUri().toString());
        return run(cmd);
    }

    public static Path screenshot(Path chromium, Path page, Path png, Path profile) throws IOException, InterruptedException {
        List<String> cmd = base(chromium, profile);
        cmd.add("--screenshot=" + png);
        cmd.add(page.toUri().toString());
        run(cmd);
        if (!Files.exists(png)) throw new IOException("chromium wrote no screenshot " + png);
        return png;
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Path log = Files.createTempFile("chromium", ".log");
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("chromium timed out");
        }
        if (p.exitValue() != 0) throw new IOException("chromium exited " + p.exitValue() + ": " + Files.readString(log));
        Files.deleteIfExists(log);
        return new String(out, StandardCharsets.UTF_8);
    }
}
