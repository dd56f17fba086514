package org.captioner.encoder;

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
 * Fetches a DL4J zoo model file into a local cache and verifies the zoo's published Adler-32 checksum,
 * as {@code ZooModel#initPretrained} does, but: downloads go to a temp file renamed into place only once
 * complete and verified, so an interrupted or corrupted download never sits in the cache looking valid;
 * and a mismatch says which file, which URL and both checksums.
 */
public final class ZooDownloader {
    private static final Logger log = LoggerFactory.getLogger(ZooDownloader.class);

    private final Path cacheDir;
    private final int timeoutMillis;

    public ZooDownloader(Path cacheDir) {
        this(cacheDir, 20_000);
    }

    public ZooDownloader(Path cacheDir, int timeoutMillis) {
        this.cacheDir = cacheDir;
        this.timeoutMillis = timeoutMillis;
    }

    public Path cacheDir() {
        return cacheDir;
    }

    /**
     * Returns the cached, verified file for {@code url}, downloading it first when absent.
     *
     * @param expectedAdler32 the zoo's checksum; 0 skips verification (the zoo's convention)
     */
    public Path fetch(String url, long expectedAdler32) throws IOException {
        String name = url.substring(url.lastIndexOf('/') + 1);
        Path cached = cacheDir.resolve(name);
        if (Files.isRegularFile(cached)) {
            long have = Hashing.adler32(cached);
            if (expectedAdler32 == 0 || have == expectedAdler32) {
                log.info("Using cached {}", cached);
                return cached;
            }
            log.warn("Cached {} has checksum {} but {} is expected; downloading it again", cached, have, expectedAdler32);
            Files.delete(cached);
        }
        Files.createDirectories(cacheDir);
        Path tmp = Files.createTempFile(cacheDir, "." + name, ".part");
        try {
            log.info("Downloading {} to {}", url, cached);
            URLConnection conn = new URL(url).openConnection();
            conn.setConnectTimeout(timeoutMillis);
            conn.setReadTimeout(timeoutMillis);
            try (InputStream in = conn.getInputStream(); OutputStream out = Files.newOutputStream(tmp)) {
                in.transferTo(out);
            }
            long got = Hashing.adler32(tmp);
            if (expectedAdler32 != 0 && got != expectedAdler32) {
                throw new ChecksumMismatchException("download of " + url + " is corrupt: Adler-32 checksum "
                        + got + ", expected " + expectedAdler32 + "; the file was discarded, not cached");
            }
            AtomicFiles.moveAtomically(tmp, cached);
            return cached;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A downloaded file whose checksum does not match the published one. */
    public static final class ChecksumMismatchException extends IOException {
        public ChecksumMismatchException(String message) {
            super(message);
        }
    }
}
