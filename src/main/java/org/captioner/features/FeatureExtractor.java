package org.captioner.features;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.captioner.ImageInput;
import org.captioner.encoder.EncoderType;
import org.captioner.encoder.ImageEncoder;
import org.captioner.image.ImagePreprocessor;
import org.captioner.image.ImageBatchLoader;
import org.captioner.pipeline.EncodingPipeline;
import org.captioner.util.AtomicFiles;
import org.captioner.util.Progress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Encodes a set of images once and stores the results for training:
 * {@code vectors.npy} [N, D] float32, {@code grid.npy} [N, cells, C] (float16 or float32),
 * {@code names.txt} (row i's image), {@code errors.jsonl} (images that failed, with the reason) and
 * {@code meta.json} (encoder, weights checksum, shapes). Rows are appended batch by batch, so memory does
 * not grow with N, and a rerun resumes after the last complete row.
 */
public final class FeatureExtractor {
    private static final Logger log = LoggerFactory.getLogger(FeatureExtractor.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    public static final String VECTORS = "vectors.npy", GRID = "grid.npy", NAMES = "names.txt",
            ERRORS = "errors.jsonl", META = "meta.json";

    public record Summary(int inputs, int alreadyDone, int written, int failed, double seconds) {
        public double imagesPerSecond() {
            return seconds > 0 ? (written + failed) / seconds : 0;
        }
    }

    private final ImageEncoder encoder;
    private final NpyWriter.Dtype gridDtype;
    private final int batchSize;
    private final int decodeThreads;
    private final boolean progress;

    public FeatureExtractor(ImageEncoder encoder, NpyWriter.Dtype gridDtype, int batchSize, int decodeThreads, boolean progress) {
        this.encoder = encoder;
        this.gridDtype = gridDtype;
        this.batchSize = batchSize;
        this.decodeThreads = decodeThreads;
        this.progress = progress;
    }

    public Summary run(List<ImageInput> inputs, Path outDir) throws IOException {
        Files.createDirectories(outDir);
        checkOrWriteMeta(outDir, -1);
        Path namesFile = outDir.resolve(NAMES);
        List<String> done = completeLines(namesFile);
        var type = encoder.type();
        // Rows present in names.txt and both arrays are the ones that count; the writers cut the rest.
        int keep = (int) Math.min(done.size(), Math.min(rows(outDir.resolve(VECTORS)), rows(outDir.resolve(GRID))));
        try (NpyWriter vec = NpyWriter.open(outDir.resolve(VECTORS), NpyWriter.Dtype.FLOAT32, new long[] {type.vectorSize}, keep);
             NpyWriter grid = NpyWriter.open(outDir.resolve(GRID), gridDtype, new long[] {type.gridCells(), type.gridChannels}, keep)) {
            return extract(inputs, outDir, done.subList(0, keep), vec, grid);
        }
    }

    /** Complete rows of an existing .npy (from its size, since a crash can leave the header behind the data), else "unbounded". */
    private static long rows(Path npy) throws IOException {
        if (!Files.exists(npy) || Files.size(npy) < NpyWriter.HEADER_LEN) return Long.MAX_VALUE;
        NpyReader.Header h = NpyReader.readHeader(npy);
        int elemBytes = h.descr().equals("<f2") ? 2 : 4;
        return (Files.size(npy) - h.dataOffset()) / (h.rowElems() * elemBytes);
    }

    private Summary extract(List<ImageInput> inputs, Path outDir, List<String> done, NpyWriter vec, NpyWriter grid) throws IOException {
        // Rewrite names.txt to exactly the kept rows (drops a torn last line).
        AtomicFiles.writeString(outDir.resolve(NAMES), done.isEmpty() ? "" : String.join("\n", done) + "\n");
        Set<String> doneSet = new HashSet<>(done);
        List<ImageInput> todo = inputs.stream().filter(i -> !doneSet.contains(i.name())).toList();
        if (!done.isEmpty()) log.info("Resuming: {} images already in {}, {} to go", done.size(), outDir, todo.size());
        long t0 = System.nanoTime();
        int written = 0, failed = 0;
        try (var batches = EncodingPipeline.encode(encoder, todo.iterator(), batchSize, decodeThreads, true);
             BufferedWriter names = Files.newBufferedWriter(outDir.resolve(NAMES), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
             BufferedWriter errors = Files.newBufferedWriter(outDir.resolve(ERRORS), StandardCharsets.UTF_8,
                     StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
             Progress pb = Progress.start("features", todo.size(), "images", progress)) {
            while (batches.hasNext()) {
                EncodingPipeline.Encoded b = batches.next();
                List<String> okNames = new ArrayList<>();
                for (ImageBatchLoader.Item item : b.items()) {
                    if (item.ok()) {
                        okNames.add(item.name());
                    } else {
                        failed++;
                        errors.write(JSON.writeValueAsString(Map.of("image", item.name(), "error", item.error())));
                        errors.newLine();
                        log.warn("{}: {}", item.name(), item.error());
                    }
                }
                if (!okNames.isEmpty()) {
                    vec.append(b.vectors());
                    grid.append(b.grids());
                    for (String n : okNames) {
                        names.write(n);
                        names.newLine();
                    }
                    names.flush();
                    written += okNames.size();
                }
                errors.flush();
                pb.stepBy(b.items().size());
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        checkOrWriteMeta(outDir, done.size() + written);
        return new Summary(inputs.size(), done.size(), written, failed, secs);
    }

    /** Lines of a text file that end with a newline (a torn last line from a crash is not complete). */
    static List<String> completeLines(Path file) throws IOException {
        if (!Files.exists(file)) return new ArrayList<>();
        String s = Files.readString(file, StandardCharsets.UTF_8);
        int end = s.lastIndexOf('\n');
        if (end < 0) return new ArrayList<>();
        List<String> out = new ArrayList<>(List.of(s.substring(0, end).split("\n", -1)));
        if (out.size() == 1 && out.get(0).isEmpty()) out.clear();
        return out;
    }

    /** Writes meta.json, or checks that an existing one was made with the same encoder and weights. */
    private void checkOrWriteMeta(Path outDir, int images) throws IOException {
        Path meta = outDir.resolve(META);
        if (images < 0 && Files.exists(meta)) {
            FeatureSet.Meta m = FeatureSet.readMeta(outDir);
            if (!m.encoder().equals(encoder.type().id) || !m.weightsSha256().equals(encoder.weightsSha256())
                    || !m.gridDtype().equals(gridDtype.name().toLowerCase())) {
                throw new IOException(outDir + " holds features from " + m.encoder() + " (weights " + m.weightsSha256()
                        + ", grid " + m.gridDtype() + "); this run uses " + encoder.type().id + " (weights "
                        + encoder.weightsSha256() + ", grid " + gridDtype.name().toLowerCase() + "). Use another --out.");
            }
            return;
        }
        writeMeta(outDir, encoder.type(), encoder.weightsSha256(), encoder.weightsSource(), gridDtype, Math.max(images, 0));
    }

    /** meta.json of a features folder (also written by the Spark job's import, {@code spark features-folder}). */
    public static void writeMeta(Path outDir, EncoderType type, String weightsSha256, String weightsSource, NpyWriter.Dtype gridDtype,
                                 int images) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("format", "captioner-features/1");
        n.put("encoder", type.id);
        n.put("weights_sha256", weightsSha256);
        n.put("weights_source", weightsSource);
        n.put("input_size", type.inputSize);
        n.put("preprocessing", type.normalisation == ImagePreprocessor.Normalisation.TF_RGB
                ? "resize to " + type.inputSize + "x" + type.inputSize + ", RGB, x / 127.5 - 1"
                : "resize to " + type.inputSize + "x" + type.inputSize + ", BGR, subtract B=103.939 G=116.779 R=123.68, no scaling");
        n.put("vector_dim", type.vectorSize);
        n.put("grid_side", type.gridSide);
        n.put("grid_channels", type.gridChannels);
        n.put("grid_dtype", gridDtype.name().toLowerCase());
        n.put("images", images);
        AtomicFiles.writeString(outDir.resolve(META), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
    }
}
