package org.captioner.encoder;

import org.captioner.testing.SharedData;
import org.captioner.testing.WeightsServer;
import org.captioner.util.Hashing;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Weights that fetch themselves: the pinned file served from ../shared/weights over a loopback HTTP server
 * ({@link WeightsServer}) and from a {@code file:} mirror.
 */
class WeightsLocatorTest {
    @TempDir
    Path dir;
    WeightsServer server;
    EncoderType.PinnedWeights pin = EncoderType.MOBILENETV2.pinned;

    @BeforeEach
    void serve() throws IOException {
        server = new WeightsServer();
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    String mirror() {
        return server.mirror();
    }

    WeightsLocator locator(String mirror) {
        return new WeightsLocator(Map.of(WeightsLocator.WEIGHTS_MIRROR_ENV, mirror,
                WeightsLocator.WEIGHTS_CACHE_ENV, dir.resolve("cache").toString()));
    }

    long cacheFiles() throws IOException {
        if (!Files.isDirectory(dir.resolve("cache"))) return 0;
        try (var s = Files.list(dir.resolve("cache"))) {
            return s.count();
        }
    }

    @Test
    void freshDownloadIsVerifiedCachedAndReusedWithoutNetwork() throws Exception {
        WeightsLocator.Located got = locator(mirror()).locate(EncoderType.MOBILENETV2, null);
        assertEquals(mirror() + "/" + pin.fileName(), got.origin());
        assertEquals(dir.resolve("cache").resolve(pin.fileName()), got.file());
        assertEquals(pin.sha256(), Hashing.sha256(got.file()));
        assertEquals(1, server.requests.get());
        assertEquals(1, cacheFiles(), "only the verified file, no temp file");
        server.close();
        server = null;
        WeightsLocator.Located again = locator("http://127.0.0.1:1/none").locate(EncoderType.MOBILENETV2, null);
        assertEquals(got.file(), again.file());
        assertTrue(again.origin().startsWith("cache "), again.origin());
        // the cached file loads as the encoder
        assertEquals(EncoderType.MOBILENETV2, Encoders.load(EncoderType.MOBILENETV2, again.file(), again.origin()).type());
    }

    @Test
    void squeezenetPinnedFileDownloadsTooAndIsTheOneInShared() throws Exception {
        WeightsLocator.Located got = locator(mirror()).locate(EncoderType.SQUEEZENET, null);
        assertEquals(EncoderType.SQUEEZENET.pinned.fileName(), got.file().getFileName().toString());
        assertEquals(Hashing.sha256(SharedData.squeezenetWeights()), Hashing.sha256(got.file()));
    }

    @Test
    void fileMirrorWorksToo() throws Exception {
        String fileMirror = SharedData.mobilenetWeights().getParent().toUri().toString();
        WeightsLocator.Located got = locator(fileMirror).locate(EncoderType.MOBILENETV2, null);
        assertEquals(pin.sha256(), Hashing.sha256(got.file()));
        assertEquals(0, server.requests.get());
        WeightsLocator.Located sq = locator(fileMirror.replace("weights", "no-such")).locate(EncoderType.MOBILENETV2, null);
        assertEquals(got.file(), sq.file(), "second call is a cache hit even with a broken mirror");
    }

    @Test
    void corruptDownloadIsRejectedAndDeleted() throws Exception {
        server.tamper = b -> {
            byte[] c = b.clone();
            c[c.length / 3] ^= 0x40;
            return c;
        };
        IOException e = assertThrows(WeightsDownloader.CorruptDownloadException.class,
                () -> locator(mirror()).locate(EncoderType.MOBILENETV2, null));
        assertTrue(e.getMessage().contains("expected " + pin.sha256()) && e.getMessage().contains("deleted, not cached"), e.getMessage());
        assertEquals(0, cacheFiles());
    }

    @Test
    void shortFileIsRejectedAndDeleted() throws Exception {
        server.tamper = b -> java.util.Arrays.copyOf(b, b.length - 1000); // a consistent but short response
        IOException e = assertThrows(WeightsDownloader.CorruptDownloadException.class,
                () -> locator(mirror()).locate(EncoderType.MOBILENETV2, null));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
        assertEquals(0, cacheFiles());
    }

    @Test
    void tornDownloadIsRejectedAndDeleted() throws Exception {
        server.breakOff = true;
        IOException e = assertThrows(WeightsDownloader.CorruptDownloadException.class,
                () -> locator(mirror()).locate(EncoderType.MOBILENETV2, null));
        assertTrue(e.getMessage().contains("deleted, not cached"), e.getMessage());
        assertEquals(0, cacheFiles());
        server.breakOff = false; // the next try succeeds
        assertEquals(pin.sha256(), Hashing.sha256(locator(mirror()).locate(EncoderType.MOBILENETV2, null).file()));
    }

    @Test
    void corruptCacheEntryIsReplacedByADownload() throws Exception {
        Files.createDirectories(dir.resolve("cache"));
        Files.write(dir.resolve("cache").resolve(pin.fileName()), new byte[] {1, 2, 3});
        WeightsLocator.Located got = locator(mirror()).locate(EncoderType.MOBILENETV2, null);
        assertEquals(pin.sha256(), Hashing.sha256(got.file()));
        assertEquals(1, server.requests.get());
    }

    @Test
    void unreachableHostListsEveryPlaceLooked() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        String nowhere = "http://127.0.0.1:" + closed + "/w";
        WeightsLocator loc = new WeightsLocator(Map.of(WeightsLocator.WEIGHTS_MIRROR_ENV, nowhere,
                WeightsLocator.WEIGHTS_CACHE_ENV, dir.resolve("cache").toString(),
                WeightsLocator.WEIGHTS_DIR_ENV, dir.resolve("weights").toString()));
        IOException e = assertThrows(IOException.class, () -> loc.locate(EncoderType.MOBILENETV2, null));
        String m = e.getMessage();
        assertFalse(e instanceof WeightsDownloader.CorruptDownloadException);
        for (String part : new String[] {dir.resolve("weights").resolve(pin.fileName()).toString(),
                dir.resolve("cache").resolve(pin.fileName()).toString(), nowhere + "/" + pin.fileName(), pin.url(), pin.sha256()}) {
            assertTrue(m.contains(part), "error names " + part + ": " + m);
        }
        assertEquals(0, cacheFiles());
    }

    @Test
    void withoutMirrorThePinnedUrlIsUsed() {
        WeightsLocator loc = new WeightsLocator(Map.of());
        assertEquals(pin.url(), loc.pinnedUrl(pin));
        assertEquals(EncoderType.SQUEEZENET.pinned.url(), loc.pinnedUrl(EncoderType.SQUEEZENET.pinned));
        assertTrue(pin.url().startsWith("https://raw.githubusercontent.com/google-coral/test_data/104342d2d3480b3e66203073dac24f4e2dbb4c41/"));
    }

    /** A file saved by hand from the pinned URL keeps the URL's name; the weights folder accepts that name too. */
    @Test
    void weightsFolderFindsTheFileUnderItsDownloadName() throws Exception {
        EncoderType.PinnedWeights squeeze = EncoderType.SQUEEZENET.pinned;
        assertFalse(EncoderType.SQUEEZENET.conventionalWeightFiles.contains(squeeze.fileName()), "the names differ");
        Path folder = Files.createDirectories(dir.resolve("by-hand"));
        Path saved = folder.resolve(squeeze.fileName());
        Files.write(saved, new byte[] {1, 2, 3});
        WeightsLocator.Located found = new WeightsLocator(Map.of(WeightsLocator.WEIGHTS_DIR_ENV, folder.toString(),
                WeightsLocator.WEIGHTS_CACHE_ENV, dir.resolve("cache").toString())).locate(EncoderType.SQUEEZENET, null);
        assertEquals(saved, found.file());
        Files.delete(saved);
        IOException e = assertThrows(IOException.class, () -> new WeightsLocator(Map.of(WeightsLocator.WEIGHTS_DIR_ENV,
                folder.toString(), WeightsLocator.WEIGHTS_MIRROR_ENV, dir.resolve("nothing-here").toUri().toString(),
                WeightsLocator.WEIGHTS_CACHE_ENV, dir.resolve("cache").toString(), WeightsLocator.ZOO_URL_ENV,
                dir.resolve("no-zoo").toUri().toString(), WeightsLocator.ZOO_CACHE_ENV, dir.resolve("zoo").toString()))
                .locate(EncoderType.SQUEEZENET, null));
        assertTrue(e.getMessage().contains(squeeze.fileName()), e.getMessage());
    }
}
