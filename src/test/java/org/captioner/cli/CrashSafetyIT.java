package org.captioner.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.model.DecoderConfig;
import org.captioner.model.DecoderType;
import org.captioner.model.Decoders;
import org.captioner.model.ModelBundle;
import org.captioner.testing.SharedData;
import org.captioner.testing.TinyData;
import org.captioner.text.Vocabulary;
import org.captioner.testing.Checkpoints;
import org.captioner.util.Hashing;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Crash safety proven by real kills: each command runs in its own JVM through the {@code ./captioner} launcher,
 * is killed with SIGKILL ({@link Process#destroyForcibly}) at a chosen moment, rerun with {@code --resume} (or
 * again, for {@code features}), and compared with an uninterrupted run.
 */
class CrashSafetyIT {
    static final Path ROOT = Path.of("").toAbsolutePath();
    @TempDir
    static Path dir;
    static Path images, model, weights, reference;
    static Map<String, String> referenceRows;

    @BeforeAll
    static void setup() throws Exception {
        weights = SharedData.squeezenetWeights();
        images = Files.createDirectories(dir.resolve("images"));
        try (var s = Files.list(SharedData.require("data/coco/val2017"))) {
            for (Path p : s.filter(p -> p.toString().endsWith(".jpg")).sorted().toList()) Files.copy(p, images.resolve(p.getFileName()));
        }
        Files.writeString(images.resolve("zz-broken.jpg"), "not an image");
        Vocabulary v = Vocabulary.build(List.of("a dog runs on the grass", "a man rides a bike", "children play in water"), 1);
        var dec = Decoders.create(DecoderConfig.defaults(DecoderType.LSTM, v.size(), 512, 169, 512).withSizes(16, 32, 0, 8), 1e-3, 1);
        model = dir.resolve("model");
        ModelBundle.save(model, dec, v, "squeezenet", Hashing.sha256(weights), new ObjectMapper().createObjectNode());
        reference = dir.resolve("reference.jsonl");
        Run r = start(caption(reference)).await();        // also builds the launcher's classpath on a fresh clone
        assertEquals(Main.EXIT_PARTIAL, r.code(), r.log());
        referenceRows = rows(reference);
        assertEquals(160, referenceRows.size());
    }

    static List<String> caption(Path out, String... extra) {
        List<String> cmd = new ArrayList<>(List.of("caption", images.toString(), "--model", model.toString(), "--weights",
                weights.toString(), "--out", out.toString(), "--batch", "2", "--threads", "1", "--no-progress"));
        cmd.addAll(List.of(extra));
        return cmd;
    }

    // ------------------------------------------------------------------ caption

    @Test
    void captionKilledEarlyResumes() throws Exception {
        Path out = dir.resolve("early.jsonl");
        Child c = start(caption(out));
        Thread.sleep(1500);                                  // the JVM is still starting: nothing captioned yet
        c.kill();
        assertFalse(Files.exists(out));
        Run r = start(caption(out, "--resume")).await();
        assertEquals(Main.EXIT_PARTIAL, r.code(), r.log());
        assertSameRows(out);
        assertNoLeftovers(out);
    }

    @Test
    void captionKilledMidRunKeepsEveryFlushedRow() throws Exception {
        Path out = dir.resolve("mid.jsonl"), html = dir.resolve("mid-report");
        Path progress = CaptionJournal.pathFor(out);
        Child c = start(caption(out, "--html", html.toString()));
        c.killWhen(() -> lines(progress) >= 40);
        long kept = lines(progress);
        assertTrue(kept >= 40 && kept < 160, "killed mid-run with " + kept + " rows in the progress file");
        assertFalse(Files.exists(out), "the output appears only when the run completes");
        Run refused = start(caption(out)).await();
        assertEquals(Main.EXIT_FATAL, refused.code());
        assertTrue(refused.log().contains("--resume"), refused.log());
        Run r = start(caption(out, "--html", html.toString(), "--resume")).await();
        assertEquals(Main.EXIT_PARTIAL, r.code(), r.log());
        String index = Files.readString(html.resolve("index.html"));
        assertTrue(index.contains("160 images: 159 captioned, 1 failed"), "the resumed report covers every image: " + index.substring(0, Math.min(600, index.length())));
        long skipped = Long.parseLong(r.log().replaceAll("(?s).*, (\\d+) skipped \\(already done\\).*", "$1"));
        assertTrue(skipped >= kept - 1 - 2, "kept " + kept + " rows, skipped " + skipped); // at most the broken file and a torn line redone
        assertSameRows(out);
        assertNoLeftovers(out);
    }

    @Test
    void captionKilledDuringTheFinalRenameIsAdoptedByResume() throws Exception {
        Path out = dir.resolve("rename.jsonl");
        Child c = startPausingAt("caption.before-rename", caption(out));
        c.killWhen(() -> c.log().contains("fault point reached: caption.before-rename"));
        assertFalse(Files.exists(out));
        assertEquals(1, tempFiles(out).size(), "the finished temp file of the killed rename: " + tempFiles(out));
        Run plain = start(caption(out)).await();
        assertEquals(Main.EXIT_FATAL, plain.code());
        assertTrue(plain.log().contains("temp file left by an interrupted run") && plain.log().contains("--resume"), plain.log());
        Run r = start(caption(out, "--resume")).await();
        assertEquals(Main.EXIT_PARTIAL, r.code(), r.log());
        assertTrue(r.log().contains("159 skipped"), r.log());  // every captioned row came from the progress file
        assertSameRows(out);
        assertNoLeftovers(out);
    }

    @Test
    void diskFullKeepsTheProgressAndResumesOnceThereIsSpace() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "skipped: mounting a small tmpfs needs root");
        Path mnt = Files.createDirectories(dir.resolve("small-disk"));
        Process m = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", mnt.toString()).redirectErrorStream(true).start();
        String why = new String(m.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Assumptions.assumeTrue(m.waitFor() == 0, "skipped: cannot mount a tmpfs here: " + why);
        try {
            Path out = mnt.resolve("caps.jsonl");
            Run full = start(caption(out)).await();
            assertEquals(Main.EXIT_FATAL, full.code(), full.log());
            assertTrue(full.log().contains(CaptionJournal.pathFor(out).toString()) && full.log().contains("--resume"), full.log());
            long kept = lines(CaptionJournal.pathFor(out));
            assertTrue(kept > 0, "rows written before the disk filled are kept");
            assertEquals(0, new ProcessBuilder("mount", "-o", "remount,size=2m", mnt.toString()).start().waitFor());
            Run r = start(caption(out, "--resume")).await();
            assertEquals(Main.EXIT_PARTIAL, r.code(), r.log());
            assertSameRows(out);
            assertNoLeftovers(out);
        } finally {
            new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor();
        }
    }

    // ------------------------------------------------------------------ features

    @Test
    void featuresKilledMidRunRerunIsIdentical() throws Exception {
        Path ref = dir.resolve("feats-ref"), cut = dir.resolve("feats-cut");
        List<String> base = List.of("features", "--encoder", "squeezenet", "--weights", weights.toString(), "--batch", "4",
                "--threads", "1", "--no-progress", images.toString(), "--out");
        List<String> a = new ArrayList<>(base);
        a.add(ref.toString());
        assertEquals(Main.EXIT_PARTIAL, start(a).await().code());
        List<String> b = new ArrayList<>(base);
        b.add(cut.toString());
        Child c = start(b);
        c.killWhen(() -> lines(cut.resolve("names.txt")) >= 40);
        long kept = lines(cut.resolve("names.txt"));
        assertTrue(kept < 159, "killed mid-run: " + kept + " rows");
        Run r = start(b).await();
        assertEquals(Main.EXIT_PARTIAL, r.code(), r.log());
        assertTrue(r.log().contains(kept + " already done"), r.log());
        for (String f : List.of("names.txt", "vectors.npy", "grid.npy")) {
            assertArrayEquals(Files.readAllBytes(ref.resolve(f)), Files.readAllBytes(cut.resolve(f)), f + " differs from the uninterrupted run");
        }
    }

    // ------------------------------------------------------------------ train

    @Test
    void trainKilledDuringACheckpointWriteResumesToTheSameParameters() throws Exception {
        Path data = TinyData.write(Files.createDirectories(dir.resolve("tiny")), 24, 2);
        Path caps = data.resolve("captions.tsv"), feats = data.resolve("features");
        java.util.function.Function<Path, List<String>> train = out -> List.of("train", "--data", "tsv", "--captions", caps.toString(),
                "--dev-captions", caps.toString(), "--features", feats.toString(), "--decoder", "lstm", "--out", out.toString(),
                "--epochs", "3", "--batch", "8", "--min-count", "1", "--embed", "16", "--hidden", "32", "--lr", "5e-3",
                "--dropout", "0", "--checkpoint-every", "2");
        Path a = dir.resolve("train-a"), b = dir.resolve("train-b");
        assertEquals(Main.EXIT_OK, start(train.apply(a)).await().code());
        // killed between the parameters and the state of the step-4 checkpoint (the second one)
        Child c = startPausingAt("train.checkpoint-parameters:4", train.apply(b));
        c.killWhen(() -> c.log().contains("fault point reached: train.checkpoint-parameters 4"));
        try (var s = Files.list(b.resolve("checkpoint"))) {
            assertEquals(2, s.filter(f -> f.getFileName().toString().startsWith("decoder-")).count(), "step 4's parameters beside step 2's");
        }
        List<String> resume = new ArrayList<>(train.apply(b));
        resume.add("--resume");
        Run r = start(resume).await();
        assertEquals(Main.EXIT_OK, r.code(), r.log());
        assertTrue(Checkpoints.params(a).equalsWithEps(Checkpoints.params(b), 1e-4), "resumed parameters differ from the uninterrupted run");
        assertEquals(epochLog(a), epochLog(b));
        try (var s = Files.list(b.resolve("checkpoint"))) {
            assertEquals(1, s.filter(f -> f.getFileName().toString().startsWith("decoder")).count(), "one parameter file kept");
        }
    }

    /** training-log.csv without the columns that measure time. */
    static List<String> epochLog(Path run) throws IOException {
        List<String> lines = Files.readAllLines(run.resolve("training-log.csv"));
        List<String> cols = List.of(lines.get(0).split(","));
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            String[] v = line.split(",");
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < v.length; i++) {
                String col = cols.get(i);
                if (col.contains("per_s") || col.contains("seconds") || col.endsWith("_s")) continue;
                sb.append(v[i]).append(',');
            }
            out.add(sb.toString());
        }
        return out;
    }

    // ------------------------------------------------------------------ helpers

    record Run(int code, String log) {
    }

    /** A command running in its own JVM through ./captioner; stdout and stderr go to a log file. */
    static final class Child {
        final Process p;
        final Path log;

        Child(Process p, Path log) {
            this.p = p;
            this.log = log;
        }

        String log() {
            try {
                return Files.exists(log) ? Files.readString(log) : "";
            } catch (IOException e) {
                return "";
            }
        }

        void kill() throws InterruptedException {
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }

        /** SIGKILL as soon as the condition holds (polled every 20 ms; fails if the command ends first). */
        void killWhen(BooleanSupplier condition) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!condition.getAsBoolean()) {
                assertTrue(p.isAlive(), "the command ended before the moment to kill it: " + log());
                assertTrue(System.nanoTime() < deadline, "timed out waiting: " + log());
                Thread.sleep(20);
            }
            kill();
        }

        Run await() throws InterruptedException {
            assertTrue(p.waitFor(10, TimeUnit.MINUTES), "timed out: " + log());
            return new Run(p.exitValue(), log());
        }
    }

    static Child start(List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("captioner").toString()));
        cmd.addAll(args);
        Path log = Files.createTempFile(dir, "child", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("JAVA_OPTS", "-Xmx2g");
        return new Child(pb.start(), log);
    }

    /**
     * The CLI with the test classes on its classpath (the launcher's classpath, built by the first {@link #start}), so
     * that {@link org.captioner.testing.TestFaultPoints} pauses at {@code point} for the test to kill it there.
     */
    static Child startPausingAt(String point, List<String> args) throws IOException {
        String cp = "target/test-classes:target/classes:" + Files.readString(ROOT.resolve("target/classpath.txt")).trim();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g",
                "-D" + org.captioner.testing.TestFaultPoints.PAUSE + "=" + point, "-cp", cp, "org.captioner.cli.Main"));
        cmd.addAll(args);
        Path log = Files.createTempFile(dir, "child", ".log");
        return new Child(new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start(), log);
    }

    static long lines(Path file) {
        try {
            if (!Files.exists(file)) return 0;
            byte[] b = Files.readAllBytes(file);
            long n = 0;
            for (byte x : b) if (x == '\n') n++;
            return n;
        } catch (IOException e) {
            return 0;
        }
    }

    /** JSONL rows keyed by image (order may differ between runs). */
    static Map<String, String> rows(Path out) throws IOException {
        Map<String, String> m = new TreeMap<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(out)) m.put(json.readTree(line).get("image").asText(), line);
        return m;
    }

    /** The output has exactly the reference run's rows; on failure, says which differ (not the whole output). */
    static void assertSameRows(Path out) throws IOException {
        Map<String, String> got = rows(out);
        List<String> diffs = new ArrayList<>();
        for (String k : referenceRows.keySet()) if (!referenceRows.get(k).equals(got.get(k))) diffs.add(k + ": " + referenceRows.get(k) + " vs " + got.get(k));
        for (String k : got.keySet()) if (!referenceRows.containsKey(k)) diffs.add(k + ": extra row " + got.get(k));
        assertTrue(diffs.isEmpty(), diffs.size() + " rows differ from the uninterrupted run, e.g. " + diffs.subList(0, Math.min(3, diffs.size())));
    }

    static List<Path> tempFiles(Path out) throws IOException {
        try (var s = Files.list(out.getParent())) {
            return s.filter(f -> f.getFileName().toString().startsWith("." + out.getFileName()) && f.toString().endsWith(".tmp")).toList();
        }
    }

    static void assertNoLeftovers(Path out) throws IOException {
        assertFalse(Files.exists(CaptionJournal.pathFor(out)), "no progress file after success");
        assertEquals(List.of(), tempFiles(out), "no temp files after success");
    }
}
