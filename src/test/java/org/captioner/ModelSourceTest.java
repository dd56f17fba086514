package org.captioner;

import org.captioner.testing.SharedData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/** A model folder inside a jar (as the bundled one travels in Captioner's artifact) loads through its URL. */
class ModelSourceTest {
    static final Path MODEL = Path.of("models", "default").toAbsolutePath();
    @TempDir
    Path dir;

    @BeforeEach
    void cache() {
        System.setProperty("captioner.model.cache", dir.resolve("cache").toString());
    }

    @AfterEach
    void noCache() {
        System.clearProperty("captioner.model.cache");
    }

    /** A jar holding the bundled model's files under {@code inside/}. */
    Path jar() throws IOException {
        Path jar = dir.resolve("models.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); var files = Files.list(MODEL)) {
            for (Path f : files.sorted().toList()) {
                out.putNextEntry(new JarEntry("inside/" + f.getFileName()));
                out.write(Files.readAllBytes(f));
                out.closeEntry();
            }
        }
        return jar;
    }

    @Test
    void aModelInAJarIsCopiedOnceAndCaptionsAsFromItsFolder() throws Exception {
        Path weights = SharedData.mobilenetWeights();
        URL url = new URL("jar:" + jar().toUri() + "!/inside/");
        Path copied = ModelSource.materialize(url);
        assertTrue(copied.startsWith(dir.resolve("cache")), copied.toString());
        for (String f : new String[] {"config.json", "decoder.zip", "vocab.json", "training.json", "evaluation.json"}) {
            assertArrayEquals(Files.readAllBytes(MODEL.resolve(f)), Files.readAllBytes(copied.resolve(f)), f);
        }
        long modified = Files.getLastModifiedTime(copied.resolve("decoder.zip")).toMillis();
        assertEquals(copied, ModelSource.materialize(url), "a second load reuses the copy");
        assertEquals(modified, Files.getLastModifiedTime(copied.resolve("decoder.zip")).toMillis());
        Path photo;
        try (var s = Files.list(SharedData.require("data/coco/val2017"))) {
            photo = s.filter(p -> p.toString().endsWith(".jpg")).sorted().findFirst().orElseThrow();
        }
        try (Captioner fromJar = Captioner.builder().weights(weights).build(url);
             Captioner fromFolder = Captioner.builder().weights(weights).build(MODEL)) {
            assertEquals(fromFolder.caption(photo).text(), fromJar.caption(photo).text());
        }
    }

    @Test
    void aFolderUrlIsUsedAsItIsAndAMissingModelIsAClearError() throws Exception {
        assertEquals(MODEL, ModelSource.materialize(MODEL.toUri().toURL()));
        Path empty = Files.createDirectories(dir.resolve("empty"));
        try (OutputStream o = Files.newOutputStream(dir.resolve("empty.jar")); JarOutputStream j = new JarOutputStream(o)) {
            j.putNextEntry(new JarEntry("nothing/readme.txt"));
            j.closeEntry();
        }
        IOException e = assertThrows(IOException.class, () -> ModelSource.materialize(new URL("jar:" + dir.resolve("empty.jar").toUri() + "!/nothing/")));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        assertTrue(Files.isDirectory(empty));
    }
}
