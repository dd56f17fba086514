package org.captioner.cli;

import picocli.CommandLine.Option;

/** {@code --threads}, {@code --batch}, {@code --recursive}: how a command reads a folder of images (a picocli mixin). */
public final class ImageOptions {
    @Option(names = "--threads", defaultValue = "2", description = "Image decoding threads.")
    public int threads;
    @Option(names = "--batch", defaultValue = org.captioner.decode.DecodeOptions.DEFAULT_BATCH, description = "Images per network batch.")
    public int batch;
    @Option(names = "--recursive", description = "Descend into sub-folders.")
    public boolean recursive;

    public void check(picocli.CommandLine.Model.CommandSpec spec) {
        Options.positive(spec, "--threads", threads);
        Options.positive(spec, "--batch", batch);
    }
}
