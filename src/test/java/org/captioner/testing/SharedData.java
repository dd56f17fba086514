package org.captioner.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates {@code ../shared} (data, weights, reference features) for tests. The path comes from the
 * {@code captioner.shared} system property (set by the pom to {@code ${basedir}/../shared}) or the
 * {@code CAPTIONER_SHARED} environment variable. Tests that need it skip, saying why, where it is absent.
 */
public final class SharedData {
    private SharedData() {
    }

    public static Path root() {
        String p = System.getProperty("captioner.shared");
        if (p == null || p.isBlank()) p = System.getenv("CAPTIONER_SHARED");
        return p == null ? null : Path.of(p).toAbsolutePath().normalize();
    }

    /** Returns shared/relative, or skips the test with a message naming what is missing. */
    public static Path require(String relative) {
        Path root = root();
        Assumptions.assumeTrue(root != null && Files.exists(root.resolve(relative)),
                () -> "skipped: needs shared data '" + relative + "' (looked under "
                        + (root == null ? "<captioner.shared unset>" : root)
                        + "); set -Dcaptioner.shared=/path/to/shared or CAPTIONER_SHARED");
        return root.resolve(relative);
    }

    public static Path squeezenetWeights() {
        return require("weights/squeezenet_v1.1_imagenet_notop.h5");
    }

    public static Path mobilenetWeights() {
        return require("weights/mobilenet_v2_1.0_224_quant.tflite");
    }

    public static Path flickrImages() {
        return require("data/flickr8k/images");
    }
}
