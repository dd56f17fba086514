package org.captioner.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/** Turns command-line inputs (folders, files, list files) into image files, each with a stable display name. */
public final class ImageFiles {
    public static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif", "jpe", "jfif");

    private ImageFiles() {
    }

    public static boolean hasImageExtension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /**
     * Folders contribute their image files (by extension; sorted; sub-folders only when {@code recursive}),
     * named relative to the folder. Files are taken as given, whatever their extension, so a mislabelled
     * file is reported rather than silently skipped.
     */
    public static List<org.captioner.ImageInput> collect(List<Path> paths, boolean recursive) throws IOException {
        List<org.captioner.ImageInput> out = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = recursive ? Files.walk(p) : Files.list(p)) {
                    s.filter(Files::isRegularFile).filter(ImageFiles::hasImageExtension).sorted()
                            .forEach(f -> out.add(org.captioner.ImageInput.of(p.relativize(f).toString().replace('\\', '/'), f)));
                }
            } else if (Files.exists(p)) {
                out.add(org.captioner.ImageInput.of(p));
            } else {
                throw new IOException("no such file or folder: " + p);
            }
        }
        return out;
    }

    /** Reads a list file: one image path per line, relative to {@code root} (default: the list's folder). */
    public static List<org.captioner.ImageInput> fromList(Path list, Path root) throws IOException {
        Path base = root != null ? root : list.toAbsolutePath().getParent();
        List<org.captioner.ImageInput> out = new ArrayList<>();
        for (String line : Files.readAllLines(list)) {
            String name = line.strip();
            if (name.isEmpty() || name.startsWith("#")) continue;
            out.add(org.captioner.ImageInput.of(name, base.resolve(name)));
        }
        return out;
    }
}
