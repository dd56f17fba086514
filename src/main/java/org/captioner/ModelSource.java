package org.captioner;

import org.captioner.model.ModelBundle;
import org.captioner.util.AtomicFiles;
import org.captioner.util.Hashing;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a model folder comes from: a folder on disk as it is, or a folder behind a URL (a resource inside a jar,
 * an HTTP server) copied once into the cache, {@code $XDG_CACHE_HOME/captioner/models} or
 * {@code ~/.cache/captioner/models} ({@code -Dcaptioner.model.cache} or {@code CAPTIONER_MODEL_CACHE} moves it), under the SHA-256 of its
 * {@code config.json}, whose checksums the bundle loader then verifies file by file.
 */
final class ModelSource {
    /** The bundled model inside Captioner's jar (or target/classes): pom.xml puts models/default there. */
    static final String BUNDLED = "org/captioner/models/default/";
    static final String CACHE_ENV = "CAPTIONER_MODEL_CACHE";
    /** The files a bundle may hold beyond those config.json lists; copied when present. */
    private static final List<String> OPTIONAL = List.of("training-log.csv", "init-training-log.csv", "evaluation.json");

    private ModelSource() {
    }

    /** A folder on disk holding the model at {@code url} (a directory URL, ending in '/'). */
    static Path materialize(URL url) throws IOException {
        if (url.getProtocol().equals("file")) {
            try {
                return Path.of(url.toURI());
            } catch (URISyntaxException e) {
                throw new IOException("bad model URL " + url + ": " + e.getMessage(), e);
            }
        }
        URL dir = url.toString().endsWith("/") ? url : new URL(url + "/");
        byte[] config = read(dir, ModelBundle.CONFIG);
        Path target = cacheDir().resolve(Hashing.sha256(config).substring(0, 16));
        if (Files.isRegularFile(target.resolve(ModelBundle.CONFIG))) return target;        // copied before
        Path tmp = Files.createDirectories(cacheDir()).resolve(target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        Files.createDirectories(tmp);
        try {
            Files.write(tmp.resolve(ModelBundle.CONFIG), config);
            var listed = new com.fasterxml.jackson.databind.ObjectMapper().readTree(config).path("sha256").fieldNames();
            while (listed.hasNext()) {
                String name = listed.next();
                Files.write(tmp.resolve(name), read(dir, name));
            }
            for (String name : OPTIONAL) {
                try {
                    Files.write(tmp.resolve(name), read(dir, name));
                } catch (FileNotFoundException | NoSuchFileException absent) {
                    // optional
                }
            }
            try {
                AtomicFiles.moveAtomically(tmp, target);
            } catch (IOException raced) {                           // another process copied it meanwhile
                if (!Files.isRegularFile(target.resolve(ModelBundle.CONFIG))) throw raced;
            }
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
        return target;
    }

    private static byte[] read(URL dir, String name) throws IOException {
        if (name.contains("/") || name.contains("..")) throw new IOException("model file name " + name + " is not a plain name");
        try (InputStream in = new URL(dir, name).openStream()) {
            return in.readAllBytes();
        }
    }

    static Path cacheDir() {
        String c = System.getProperty("captioner.model.cache");
        if (c == null || c.isBlank()) c = System.getenv(CACHE_ENV);
        if (c != null && !c.isBlank()) return Path.of(c);
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("captioner").resolve("models");
    }

    static URI bundledUri() {
        URL config = Captioner.class.getClassLoader().getResource(BUNDLED + ModelBundle.CONFIG);
        if (config == null) return null;
        try {
            return new URL(config, ".").toURI();
        } catch (IOException | URISyntaxException e) {
            return null;
        }
    }
}
