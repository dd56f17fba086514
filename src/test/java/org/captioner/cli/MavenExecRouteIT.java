package org.captioner.cli;

import org.captioner.model.ModelBundle;
import org.captioner.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The design's Maven route as docs/training.md gives it, {@code mvn -q compile exec:exec@captioner -Dexec.args="..."},
 * on a fresh copy of the project (no target/: what a clone has): it compiles first, runs the CLI in a JVM of its own
 * with the launcher's JVM options (src/main/jvm/captioner.options) and environment, and trains a tiny model.
 */
class MavenExecRouteIT {
    static final Path ROOT = Path.of("").toAbsolutePath();
    static final Set<String> SKIP = Set.of("target", ".git", "runs", "feats");

    @TempDir
    Path dir;

    @Test
    void trainThroughMavenExecFromAFreshCopy() throws Exception {
        Path copy = freshCopy(dir.resolve("captioner"));
        Run help = mvn(copy, "train --help");
        assertEquals(0, help.code(), help.log());
        assertTrue(help.log().contains("--decoder") && help.log().contains("--epochs"), help.log());

        TinyData.write(dir, 18, 5);
        Path caps = dir.resolve("captions.tsv"), feats = dir.resolve("features"), out = dir.resolve("model");
        Run train = mvn(copy, "train --data tsv --captions " + caps + " --dev-captions " + caps + " --features " + feats
                + " --decoder lstm --out " + out + " --epochs 2 --batch 8 --min-count 1 --embed 16 --hidden 32 --lr 5e-3 --no-progress");
        assertEquals(0, train.code(), train.log());
        assertTrue(train.log().contains("epoch 2:"), train.log());
        ModelBundle.load(out);
        assertTrue(train.jvmArgs().contains("@" + copy.resolve("src/main/jvm/captioner.options")),
                "the launcher's JVM options: " + train.jvmArgs());
        assertTrue(train.environment().contains("OMP_WAIT_POLICY=PASSIVE"), "the launcher's environment");
    }

    record Run(int code, String log, List<String> jvmArgs, String environment) {
    }

    /** Runs the documented command; while it runs, notes the CLI JVM's arguments and environment (from /proc). */
    static Run mvn(Path project, String args) throws Exception {
        Path log = Files.createTempFile("mvn-exec", ".log");
        Process p = new ProcessBuilder("mvn", "-q", "-B", "compile", "exec:exec@captioner", "-Dexec.args=" + args)
                .directory(project.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        List<String> jvmArgs = new ArrayList<>();
        String env = "";
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (p.isAlive() && System.nanoTime() < deadline) {
            for (ProcessHandle h : p.descendants().toList()) {
                try {
                    Path proc = Path.of("/proc", String.valueOf(h.pid()));
                    List<String> a = List.of(new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).split("\0"));
                    if (a.contains("org.captioner.cli.Main") && jvmArgs.isEmpty()) {
                        jvmArgs.addAll(a);
                        env = new String(Files.readAllBytes(proc.resolve("environ")), StandardCharsets.UTF_8).replace('\0', '\n');
                    }
                } catch (IOException e) {
                    // the process ended meanwhile
                }
            }
            Thread.sleep(50);
        }
        assertTrue(p.waitFor(1, TimeUnit.MINUTES), "mvn finished");
        return new Run(p.exitValue(), Files.readString(log), jvmArgs, env);
    }

    /** The project's files without build outputs or version control, as a fresh clone has them. */
    static Path freshCopy(Path to) throws IOException {
        try (Stream<Path> s = Files.walk(ROOT)) {
            for (Path f : s.toList()) {
                Path rel = ROOT.relativize(f);
                if (rel.getNameCount() > 0 && SKIP.contains(rel.getName(0).toString())) continue;
                Path t = to.resolve(rel.toString());
                if (Files.isDirectory(f)) Files.createDirectories(t);
                else Files.copy(f, t);
            }
        }
        return to;
    }
}
