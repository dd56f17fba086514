package org.captioner;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One image to caption or encode, under the name its result is reported with: a file, encoded bytes (an upload, a
 * Spark row) or pixels already in memory. Exactly one of {@code file}, {@code bytes}, {@code image} is set.
 */
public record ImageInput(String name, Path file, byte[] bytes, BufferedImage image) {
    public ImageInput {
        Objects.requireNonNull(name, "name");
        int sources = (file != null ? 1 : 0) + (bytes != null ? 1 : 0) + (image != null ? 1 : 0);
        if (sources != 1) throw new IllegalArgumentException("an ImageInput has exactly one source (file, bytes or image), got " + sources);
    }

    /** A file, reported under its path. */
    public static ImageInput of(Path file) {
        return new ImageInput(file.toString(), file, null, null);
    }

    public static ImageInput of(String name, Path file) {
        return new ImageInput(name, file, null, null);
    }

    /** Encoded image bytes (JPEG, PNG, ...). */
    public static ImageInput of(String name, byte[] bytes) {
        return new ImageInput(name, null, bytes, null);
    }

    public static ImageInput of(String name, BufferedImage image) {
        return new ImageInput(name, null, null, image);
    }

    @Override
    public String toString() {
        return name;
    }
}
