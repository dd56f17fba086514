package org.captioner.encoder;

import org.captioner.util.Hashing;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The zoo download path, served from a local file: URL (no network here). */
class WeightsDownloaderTest {
    @TempDir
    Path dir;

    @Test
    void downloadsVerifiesAndCaches() throws Exception {
        Path mirror = Files.createDirectories(dir.resolve("mirror/models"));
        Path src = Files.write(mirror.resolve("model.zip"), "PK\u0003\u0004 some bytes".getBytes());
        long sum = Hashing.adler32(src);
        WeightsDownloader zoo = new WeightsDownloader(dir.resolve("cache"), 5_000, false);
        Path got = zoo.fetch(src.toUri().toString(), WeightsDownloader.Checksum.adler32(sum));
        assertEquals(dir.resolve("cache/model.zip"), got);
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(got));
        Files.delete(src); // second fetch must come from the cache
        assertEquals(got, zoo.fetch(src.toUri().toString(), WeightsDownloader.Checksum.adler32(sum)));
        try (var s = Files.list(dir.resolve("cache"))) {
            assertEquals(1, s.count(), "no temp files left behind");
        }
    }

    @Test
    void checksumMismatchIsReportedAndNothingIsCached() throws Exception {
        Path src = Files.write(dir.resolve("model.zip"), new byte[] {1, 2, 3});
        WeightsDownloader zoo = new WeightsDownloader(dir.resolve("cache"), 5_000, false);
        IOException e = assertThrows(WeightsDownloader.CorruptDownloadException.class, () -> zoo.fetch(src.toUri().toString(), WeightsDownloader.Checksum.adler32(12345L)));
        assertTrue(e.getMessage().contains("expected 12345") && e.getMessage().contains("deleted, not cached"), e.getMessage());
        try (var s = Files.list(dir.resolve("cache"))) {
            assertEquals(0, s.count());
        }
    }

    @Test
    void corruptCachedFileIsReplaced() throws Exception {
        Path src = Files.write(dir.resolve("model.zip"), new byte[] {9, 9, 9, 9});
        Files.createDirectories(dir.resolve("cache"));
        Files.write(dir.resolve("cache/model.zip"), new byte[] {0});
        Path got = new WeightsDownloader(dir.resolve("cache"), 5_000, false).fetch(src.toUri().toString(), WeightsDownloader.Checksum.adler32(Hashing.adler32(src)));
        assertArrayEquals(new byte[] {9, 9, 9, 9}, Files.readAllBytes(got));
    }

    @Test
    void locatorUsesTheZooUrlAndChecksumOfTheRealZooModel() throws Exception {
        // A mirror holding a file under the zoo's own name but with other bytes: the zoo's published checksum must reject it.
        Path mirror = Files.createDirectories(dir.resolve("mirror/models"));
        Files.write(mirror.resolve("squeezenet_dl4j_inference.v2.zip"), new byte[] {1, 2, 3});
        WeightsLocator loc = new WeightsLocator(Map.of(WeightsLocator.ZOO_URL_ENV, dir.resolve("mirror").toUri().toString(),
                WeightsLocator.ZOO_CACHE_ENV, dir.resolve("cache").toString(),
                WeightsLocator.WEIGHTS_MIRROR_ENV, dir.resolve("no-mirror").toUri().toString(),
                WeightsLocator.WEIGHTS_CACHE_ENV, dir.resolve("wcache").toString()));
        IOException e = assertThrows(IOException.class, () -> loc.locate(EncoderType.SQUEEZENET, null));
        assertTrue(e.getMessage().contains("squeezenet_dl4j_inference.v2.zip") && e.getMessage().contains("expected 3711411239"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("cache/squeezenet/squeezenet_dl4j_inference.v2.zip")));
    }

    @Test
    void noWeightsAnywhereListsEveryPlaceTried() {
        WeightsLocator loc = new WeightsLocator(Map.of(WeightsLocator.WEIGHTS_DIR_ENV, dir.toString(),
                WeightsLocator.ZOO_URL_ENV, dir.resolve("nowhere").toUri().toString(),
                WeightsLocator.ZOO_CACHE_ENV, dir.resolve("cache").toString(),
                WeightsLocator.WEIGHTS_MIRROR_ENV, dir.resolve("no-mirror").toUri().toString(),
                WeightsLocator.WEIGHTS_CACHE_ENV, dir.resolve("wcache").toString()));
        IOException e = assertThrows(IOException.class, () -> loc.locate(EncoderType.SQUEEZENET, null));
        String m = e.getMessage();
        assertTrue(m.contains("squeezenet_v1.1_imagenet_notop.h5") && m.contains(dir.toString()) && m.contains("DL4J zoo download"), m);
    }

    @Test
    void zooZipLoadsAsEncoder() throws Exception {
        // A DL4J zip whose fire9 merge vertex is found by name, as in the zoo's converted SqueezeNet.
        ComputationGraph g = SqueezeNetGraph.build(224);
        Path zip = dir.resolve("squeezenet_dl4j_inference.v2.zip");
        ModelSerializer.writeModel(g, zip.toFile(), false);
        ImageEncoder enc = Encoders.load(EncoderType.SQUEEZENET, zip, "test");
        assertEquals(512, enc.encode(org.nd4j.linalg.factory.Nd4j.rand(1, 3, 224, 224)).vectors().size(1));
    }
}
