package org.captioner.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/** coco-scripts/download_coco.sh against a local file:// mirror of small fixture zips. */
class CocoScriptsTest {
    @TempDir
    Path dir;

    static Path zip(Path file, String entry, String content) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            z.putNextEntry(new ZipEntry(entry));
            z.write(content.getBytes(StandardCharsets.UTF_8));
            z.closeEntry();
        }
        return file;
    }

    static String md5(Path f) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(Files.readAllBytes(f)));
    }

    record Run(int code, String out) {
    }

    Run download(Path mirror, Path checksums, Path dest) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "coco-scripts/download_coco.sh", dest.toString()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("COCO_IMAGES_URL", mirror.toUri().toString());
        env.put("COCO_ANNOTATIONS_URL", mirror.toUri().toString());
        env.put("KARPATHY_URL", mirror.toUri().toString());
        env.put("COCO_CHECKSUMS", checksums.toString());
        env.put("COCO_FILES", "annotations_trainval2014.zip caption_datasets.zip val2014.zip");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        return new Run(p.exitValue(), out);
    }

    @Test
    void downloadsVerifiesUnpacksResumesAndRejectsCorruption() throws Exception {
        Path mirror = Files.createDirectories(dir.resolve("mirror"));
        zip(mirror.resolve("annotations_trainval2014.zip"), "annotations/captions_val2014.json", "{\"images\": [], \"annotations\": []}");
        zip(mirror.resolve("caption_datasets.zip"), "dataset_coco.json", "{\"images\": []}");
        zip(mirror.resolve("val2014.zip"), "val2014/COCO_val2014_000000000042.jpg", "jpeg bytes");
        StringBuilder sums = new StringBuilder();
        for (String f : new String[] {"annotations_trainval2014.zip", "val2014.zip"}) {
            sums.append(md5(mirror.resolve(f))).append("  ").append(f).append('\n');
        }
        sums.append("-  caption_datasets.zip\n"); // no published sum: trust on first use
        Path checksums = Files.writeString(dir.resolve("sums.md5"), sums);
        Path dest = dir.resolve("coco");

        Run r = download(mirror, checksums, dest);
        assertEquals(0, r.code(), r.out());
        assertTrue(Files.exists(dest.resolve("annotations/captions_val2014.json")));
        assertTrue(Files.exists(dest.resolve("dataset_coco.json")));
        assertTrue(Files.exists(dest.resolve("val2014/COCO_val2014_000000000042.jpg")));
        assertTrue(Files.readString(dest.resolve("checksums.local.md5")).contains(md5(mirror.resolve("caption_datasets.zip"))));
        assertTrue(r.out().contains("no published checksum for caption_datasets.zip"), r.out());

        // Rerun: everything is verified and skipped.
        r = download(mirror, checksums, dest);
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("ok: val2014.zip already downloaded and verified"), r.out());

        // Interrupted download: a partial file is resumed to the full, verified file.
        byte[] full = Files.readAllBytes(dest.resolve("val2014.zip"));
        Files.delete(dest.resolve("val2014.zip"));
        Files.write(dest.resolve("val2014.zip.part"), java.util.Arrays.copyOf(full, full.length / 2));
        r = download(mirror, checksums, dest);
        assertEquals(0, r.code(), r.out());
        assertArrayEquals(full, Files.readAllBytes(dest.resolve("val2014.zip")));

        // A corrupt mirror file fails its checksum and is not kept.
        Files.delete(dest.resolve("val2014.zip"));
        zip(mirror.resolve("val2014.zip"), "val2014/other.jpg", "tampered");
        r = download(mirror, checksums, dest);
        assertEquals(1, r.code(), r.out());
        assertTrue(r.out().contains("val2014.zip has MD5") && r.out().contains("deleted"), r.out());
        assertFalse(Files.exists(dest.resolve("val2014.zip")));
        assertFalse(Files.exists(dest.resolve("val2014.zip.part")));
    }
}
