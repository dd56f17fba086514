package org.captioner.util;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * Progress of a long command on stderr: a redrawn progress bar when stderr is a terminal, otherwise (a log file, a
 * CI job) one plain line every few seconds, which a file can hold; nothing with {@code --no-progress}.
 */
public final class Progress implements AutoCloseable {
    private static final long LINE_EVERY_NANOS = 5_000_000_000L;

    private final String task;
    private final String unit;
    private final ProgressBar bar;           // terminal
    private final PrintStream lines;         // not a terminal
    private final long startNanos = System.nanoTime();
    private final long max;
    private long done;
    private long startDone;
    private long lastLine = System.nanoTime();
    private String extra = "";

    private Progress(String task, long max, String unit, ProgressBar bar, PrintStream lines) {
        this.task = task;
        this.max = max;
        this.unit = unit;
        this.bar = bar;
        this.lines = lines;
    }

    /** Progress over {@code max} units ({@code unit} e.g. "images"); {@code enabled} false shows nothing. */
    public static Progress start(String task, long max, String unit, boolean enabled) {
        if (!enabled) return new Progress(task, max, unit, null, null);
        if (stderrIsTerminal()) {
            ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setUnit(" " + unit, 1)
                    .showSpeed().setSpeedUnit(ChronoUnit.SECONDS).setUpdateIntervalMillis(1000).setMaxRenderedLength(110)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
            return new Progress(task, max, unit, bar, null);
        }
        return new Progress(task, max, unit, null, System.err);
    }

    /**
     * Whether stderr is a terminal. Java 17 can only ask that of stdin and stdout together ({@code System.console()});
     * on Linux, file descriptor 2's link names the terminal device itself.
     */
    static boolean stderrIsTerminal() {
        Path fd2 = Path.of("/proc/self/fd/2");
        try {
            String target = Files.readSymbolicLink(fd2).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (Exception e) {
            return System.console() != null;
        }
    }

    public void stepBy(long n) {
        stepTo(done + n);
    }

    public void step() {
        stepBy(1);
    }

    /** A resumed run: {@code n} units were done before this process started (they do not count towards its rate). */
    public void resumeAt(long n) {
        startDone = n;
        stepTo(n);
    }

    public void stepTo(long n) {
        done = n;
        if (bar != null) bar.stepTo(n);
        if (lines != null && System.nanoTime() - lastLine >= LINE_EVERY_NANOS) printLine();
    }

    /** A few words after the counts (a loss, a rate). */
    public void setExtraMessage(String message) {
        extra = message == null ? "" : message;
        if (bar != null) bar.setExtraMessage(extra);
    }

    private void printLine() {
        lastLine = System.nanoTime();
        double secs = (lastLine - startNanos) / 1e9;
        double rate = secs > 0 ? (done - startDone) / secs : 0;
        String eta = rate > 0 && max > done ? String.format(Locale.ROOT, ", ETA %s", duration((max - done) / rate)) : "";
        lines.printf(Locale.ROOT, "%s: %d/%d %s (%.0f%%), %.1f %s/s%s%s%n", task, done, max, unit,
                max > 0 ? 100.0 * done / max : 100.0, rate, unit, eta, extra);
    }

    /** 42 s, 3 min 05 s, 2 h 10 min. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + " s";
        if (s < 3600) return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        return String.format(Locale.ROOT, "%d h %02d min", s / 3600, (s % 3600) / 60);
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
        if (lines != null && done > 0) printLine();
    }
}
