package org.captioner.encoder;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.captioner.util.AtomicFiles;
import org.captioner.util.Hashing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fetches a weights file into a local cache and verifies it against a published checksum (the SHA-256 pinned
 * next to each encoder's URL, or the DL4J zoo's Adler-32). A download goes to a temp file beside the cache
 * entry and is renamed into place only once complete and verified, so an interrupted, truncated or corrupted
 * download never sits in the cache looking valid; a mismatch names the URL and both checksums. Works for
 * {@code http(s):} and {@code file:} URLs alike (mirrors, air-gapped sites, tests). Downloads show a progress
 * bar on stderr.
 */
public final class WeightsDownloader {
    private static final Logger log = LoggerFactory.getLogger(WeightsDownloader.class);

    /** A published checksum: {@code SHA-256} (hex) or {@code Adler-32} (decimal; "0" skips the check, the zoo's convention). */
    public record Checksum(String algorithm, String value) {
        public static Checksum sha256(String hex) {
            return new Checksum("SHA-256", hex.toLowerCase(java.util.Locale.ROOT));
        }

        public static Checksum adler32(long value) {
            return new Checksum("Adler-32", Long.toString(value));
        }

        String of(Path file) throws IOException {
            return algorithm.equals("SHA-256") ? Hashing.sha256(file) : Long.toString(Hashing.adler32(file));
        }

        boolean matches(Path file) throws IOException {
            return accepts(of(file));
        }

        /** Whether a computed checksum satisfies this one ("0" for Adler-32 accepts anything). */
        boolean accepts(String computed) {
            return (algorithm.equals("Adler-32") && value.equals("0")) || value.equals(computed);
        }

        @Override
        public String toString() {
            return algorithm + " " + value;
        }
    }

    private final Path cacheDir;
    private final int timeoutMillis;
    private final boolean progress;

    public WeightsDownloader(Path cacheDir) {
        this(cacheDir, 20_000, true);
    }

    public WeightsDownloader(Path cacheDir, int timeoutMillis, boolean progress) {
        this.cacheDir = cacheDir;
        this.timeoutMillis = timeoutMillis;
        this.progress = progress;
    }

    public Path cacheDir() {
        return cacheDir;
    }

    /** The cache entry for a file name when present and verified, else null (a corrupt entry is deleted). */
    public Path cached(String name, Checksum expected) throws IOException {
        Path cached = cacheDir.resolve(name);
        if (!Files.isRegularFile(cached)) return null;
        if (expected.matches(cached)) {
            log.info("Using cached {}", cached);
            return cached;
        }
        log.warn("Cached {} does not have the published {}; deleting it", cached, expected);
        Files.delete(cached);
        return null;
    }

    /** Returns the cached, verified file for {@code url}, downloading it first when absent. */
    public Path fetch(String url, Checksum expected) throws IOException {
        String name = url.substring(url.lastIndexOf('/') + 1);
        Path hit = cached(name, expected);
        if (hit != null) return hit;
        Path cached = cacheDir.resolve(name);
        Files.createDirectories(cacheDir);
        Path tmp = Files.createTempFile(cacheDir, "." + name, ".part");
        try {
            log.info("Downloading {} to {}", url, cached);
            URLConnection conn = new URL(url).openConnection();
            conn.setConnectTimeout(timeoutMillis);
            conn.setReadTimeout(timeoutMillis);
            long length = conn.getContentLengthLong();
            try (InputStream raw = conn.getInputStream();
                 InputStream in = progress ? ProgressBar.wrap(raw, progressBar(name, length)) : raw;
                 OutputStream out = Files.newOutputStream(tmp)) {
                in.transferTo(out);
            } catch (IOException e) {
                long got = Files.size(tmp);
                if (got == 0) throw e; // nothing arrived: the source is unreachable, not corrupt
                throw new CorruptDownloadException("download of " + url + " broke off after " + got + " bytes"
                        + (length >= 0 ? " of " + length : "") + " (" + e + "); the partial file was deleted, not cached");
            }
            long got = Files.size(tmp);
            if (length >= 0 && got != length) {
                throw new CorruptDownloadException("download of " + url + " is truncated: " + got + " of " + length
                        + " bytes; the partial file was deleted, not cached");
            }
            String checksum = expected.of(tmp);
            if (!expected.accepts(checksum)) {
                throw new CorruptDownloadException("download of " + url + " is corrupt: " + expected.algorithm() + " "
                        + checksum + ", expected " + expected.value() + "; the file was deleted, not cached");
            }
            AtomicFiles.moveAtomically(tmp, cached);
            return cached;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static ProgressBarBuilder progressBar(String name, long length) {
        return new ProgressBarBuilder().setTaskName("download " + name).setInitialMax(Math.max(length, 0))
                .setUnit(" MiB", 1 << 20).showSpeed().setUpdateIntervalMillis(500).setMaxRenderedLength(100)
                .setConsumer(new ConsoleProgressBarConsumer(System.err));
    }

    /** A download that is truncated or whose checksum does not match the published one (deleted, not cached). */
    public static final class CorruptDownloadException extends IOException {
        public CorruptDownloadException(String message) {
            super(message);
        }
    }
}
