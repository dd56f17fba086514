package org.captioner.cli;

import org.captioner.encoder.EncoderType;
import org.captioner.encoder.Encoders;
import org.captioner.encoder.ImageEncoder;
import org.captioner.features.FeatureExtractor;
import org.captioner.features.NpyWriter;
import org.captioner.image.ImageFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "features", mixinStandardHelpOptions = true,
        description = {"Encode images once and store image vectors and feature grids as NumPy .npy files.",
                "Writes vectors.npy [N,D] float32, grid.npy [N,cells,C], names.txt, errors.jsonl, meta.json.",
                "Rerunning with the same --out resumes: images already done are skipped."})
public final class FeaturesCommand implements Callable<Integer> {
    @Option(names = "--encoder", defaultValue = "mobilenetv2", description = "squeezenet, vgg16 or mobilenetv2.")
    String encoder;

    @Option(names = "--weights", description = {"Weights file (Keras .h5, DL4J zip, or the .tflite for mobilenetv2). Default: CAPTIONER_WEIGHTS_DIR,",
            "the cache, the pinned download, then the DL4J zoo (docs/weights.md)."})
    Path weights;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--list", description = "File listing images, one per line, relative to --root.")
    Path list;

    @Option(names = "--root", description = "Folder the --list entries are relative to (default: the list's folder).")
    Path root;

    @Option(names = "--recursive", description = "Descend into sub-folders of folder inputs.")
    boolean recursive;

    // an initial value, not defaultValue: picocli would apply that after a hidden --grid-dtype had set the field
    @Option(names = "--grid", description = "Number type of grid.npy: float16 or float32.")
    String gridDtype = "float16";

    @Option(names = "--grid-dtype", hidden = true, description = "Former name of --grid.")
    void setGridDtype(String dtype) {
        gridDtype = dtype;
    }

    @Option(names = "--batch", description = "Images per CNN batch (default: the encoder's fastest here: 32 for squeezenet and vgg16, 16 for mobilenetv2).")
    Integer batch;

    @Option(names = "--threads", defaultValue = "2", description = "Image decoding threads.")
    int threads;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Parameters(arity = "0..*", paramLabel = "INPUT", description = "Image folders or files.")
    List<Path> inputs = new ArrayList<>();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (batch != null) Options.positive(spec, "--batch", batch);
        Options.positive(spec, "--threads", threads);
        NpyWriter.Dtype dtype;
        EncoderType type;
        try {
            dtype = NpyWriter.Dtype.parse(gridDtype);
            type = EncoderType.parse(encoder);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        List<org.captioner.ImageInput> all = new ArrayList<>(ImageFiles.collect(inputs, recursive));
        if (list != null) all.addAll(ImageFiles.fromList(list, root));
        if (all.isEmpty()) {
            spec.commandLine().getErr().println("error: no images found in " + (inputs.isEmpty() ? list : inputs));
            return Main.EXIT_FATAL;
        }
        ImageEncoder enc = Encoders.load(type, weights);
        FeatureExtractor.Summary s = new FeatureExtractor(enc, dtype, batch != null ? batch : type.defaultBatch, threads, !noProgress).run(all, out);
        System.err.printf("features: %d inputs, %d already done, %d encoded, %d failed in %.1f s (%.1f images/s) -> %s%n",
                s.inputs(), s.alreadyDone(), s.written(), s.failed(), s.seconds(), s.imagesPerSecond(), out);
        if (s.failed() > 0) System.err.println("failed images are listed in " + out.resolve(FeatureExtractor.ERRORS));
        return s.failed() > 0 ? Main.EXIT_PARTIAL : Main.EXIT_OK;
    }
}
