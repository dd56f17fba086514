package org.captioner.cli;

import org.captioner.Captioner;
import org.captioner.pipeline.CaptionPipeline;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** {@code --model} and {@code --weights}: the model a command captions with (a picocli mixin, declared once). */
public final class ModelOptions {
    @Option(names = "--model", description = "Model folder (default: the bundled models/default).")
    public Path model;
    @Option(names = "--weights", description = {"Encoder weights file (default: CAPTIONER_WEIGHTS_DIR, the cache, the pinned download,",
            "then the DL4J zoo)."})
    public Path weights;

    /** The model folder: --model, else the default model. */
    public Path modelDir() throws IOException {
        return model != null ? model : Captioner.defaultModel();
    }

    public CaptionPipeline load() throws IOException {
        return CaptionPipeline.load(modelDir(), weights);
    }
}
