package org.captioner.util;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.Adler32;

/** File checksums: SHA-256 for provenance, Adler-32 because that is what the DL4J zoo publishes. */
public final class Hashing {
    private Hashing() {
    }

    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static long adler32(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            Adler32 a = new Adler32();
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) a.update(buf, 0, n);
            return a.getValue();
        }
    }
}
