package org.captioner.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.captioner.data.CaptionDataset;
import org.captioner.data.ImageCaptions;
import org.captioner.encoder.EncoderType;
import org.captioner.encoder.NativeSetup;
import org.captioner.features.FeatureExtractor;
import org.captioner.features.FeatureSet;
import org.captioner.features.NpyWriter;
import org.captioner.model.AttentionMap;
import org.captioner.model.DecoderType;
import org.captioner.train.ScheduledSampling;
import org.captioner.train.TrainOptions;
import org.captioner.train.Trainer;
import org.captioner.util.AtomicFiles;
import org.captioner.util.PeakMemory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code bench train-scale}: does training memory depend on the data set's size? For each {@code --images N} it
 * writes a synthetic features folder with the default encoder's shapes (random grids, made-up captions) under a
 * temporary folder it removes, trains {@code --steps} steps of the default recipe on it in a fresh JVM (so each size
 * has its own peak RSS), and prints peak RSS, steps/s, time to the first step and disk used.
 */
@Command(name = "train-scale", mixinStandardHelpOptions = true,
        description = {"Training memory and speed against the data set's size: synthetic features of N images with the",
                "default encoder's shapes, S training steps each in its own JVM; prints peak RSS, steps/s, time to the first",
                "step and disk used. Example: --images 7000,123287 (Flickr8k's and COCO's sizes)."})
public final class BenchTrainScaleCommand implements Callable<Integer> {
    @Option(names = "--images", split = ",", defaultValue = "7000", description = "Data set sizes to try, comma-separated.")
    List<Integer> images;
    @Option(names = "--steps", defaultValue = "30", description = "Training steps timed per size (after the first).")
    int steps;
    @Option(names = "--decoder", defaultValue = "attention", description = "rnn, lstm, gru, attention or hard-attention.")
    String decoder;
    @Option(names = "--batch", defaultValue = "64", description = "Captions per batch.")
    int batch;
    @Option(names = "--dir", description = "Where the temporary features folders go (default: the system's temp folder).")
    Path dir;
    @Option(names = "--child", hidden = true, description = "Internal: train on this prepared folder and print one JSON line.")
    Path child;
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    static final int CAPTIONS_PER_IMAGE = 5, WORDS = 2_000, DEV_IMAGES = 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        Options.positive(spec, "--steps", steps);
        Options.positive(spec, "--batch", batch);
        DecoderType type = DecoderType.parse(decoder);
        if (child != null) return train(child, type);
        for (int n : images) Options.range(spec, "--images", n, DEV_IMAGES + 1, 10_000_000);
        Path base = Files.createTempDirectory(dir != null ? Files.createDirectories(dir) : Path.of(System.getProperty("java.io.tmpdir")),
                "captioner-train-scale");
        System.out.printf("%-9s %-12s %-10s %-14s %-12s %-11s %-11s %-9s%n", "images", "disk", "write s", "first step s", "steps/s",
                "peak RSS", "peak heap", "max heap");
        try {
            for (int n : images) {
                Path folder = base.resolve("n" + n);
                long t0 = System.nanoTime();
                write(folder, n, 7);
                double writeSecs = (System.nanoTime() - t0) / 1e9;
                long disk = du(folder);
                var r = JSON.readTree(runChild(folder, type));
                System.out.printf(Locale.ROOT, "%-9d %-12s %-10.1f %-14.1f %-12.2f %-11s %-11s %-9s%n", n, String.format(Locale.ROOT, "%.2f GB", disk / 1e9),
                        writeSecs, r.get("seconds_to_first_step").asDouble(), r.get("steps_per_s").asDouble(), gb(r.get("peak_rss_mib").asLong()),
                        gb(r.get("peak_heap_mib").asLong()), gb(r.get("max_heap_mib").asLong()));
                AtomicFiles.deleteTree(folder);
            }
        } finally {
            AtomicFiles.deleteTree(base);
        }
        return Main.EXIT_OK;
    }

    private static String gb(long mib) {
        return String.format(Locale.ROOT, "%.2f GB", mib / 1024.0);
    }

    /** Runs this command with --child in a fresh JVM with this JVM's options; returns its JSON line. */
    private String runChild(Path folder, DecoderType type) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench", "train-scale",
                "--child", folder.toString(), "--steps", String.valueOf(steps), "--decoder", type.id(), "--batch", String.valueOf(batch)));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IOException("the training JVM failed (exit " + p.exitValue() + ") on " + folder);
        return out.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow(() -> new IOException("no result from " + folder));
    }

    private int train(Path folder, DecoderType type) throws Exception {
        NativeSetup.init();
        long t0 = System.nanoTime();
        List<ImageCaptions> all = CaptionDataset.load(folder.resolve("captions.tsv"), CaptionDataset.Format.TSV).split(null);
        List<ImageCaptions> dev = all.subList(0, DEV_IMAGES), train = all.subList(DEV_IMAGES, all.size());
        long[] firstStep = {0};                                  // when the first (warm-up) step ended; the rest are timed
        try (FeatureSet fs = new FeatureSet(folder.resolve("features"))) {
            TrainOptions o = new TrainOptions(type, folder.resolve("run"), 1, batch, TrainOptions.DEFAULT_LEARNING_RATE, 0.8, 3, 1, 20, 42, 1_000_000, 1,
                    256, 512, 0.5, 0, 0, 0, new ScheduledSampling(0, 5, 0.05, 0.25), AttentionMap.SPARSEMAX, null, 1);
            Trainer trainer = new Trainer(o, new Trainer.Data(train, dev, fs, fs, "synthetic, " + all.size() + " images"), "bench train-scale")
                    .progress(false).maxSteps(steps + 1L).onStep(step -> {
                        if (firstStep[0] == 0) firstStep[0] = System.nanoTime();
                    });
            trainer.run(false);
        }
        double toFirst = (firstStep[0] - t0) / 1e9;
        double secs = (System.nanoTime() - firstStep[0]) / 1e9;
        ObjectNode r = JSON.createObjectNode();
        r.put("images", all.size());
        r.put("seconds_to_first_step", toFirst);
        r.put("steps_per_s", steps / secs);
        r.put("peak_rss_mib", PeakMemory.peakRssMiB());
        r.put("peak_heap_mib", PeakMemory.peakHeapMiB());
        r.put("max_heap_mib", Runtime.getRuntime().maxMemory() >> 20);
        System.out.println(JSON.writeValueAsString(r));
        return Main.EXIT_OK;
    }

    /**
     * A features folder of {@code n} images with MobileNetV2's shapes (vectors 1,280 float32, grids 7 x 7 x 1,280
     * float16) and a captions.tsv of made-up captions ({@value #CAPTIONS_PER_IMAGE} per image, {@value #WORDS} words).
     * Rows repeat a pool of random ones: their values do not matter for speed or memory, and writing stays fast.
     */
    static void write(Path folder, int n, long seed) throws IOException {
        EncoderType t = EncoderType.MOBILENETV2;
        Path feat = Files.createDirectories(folder.resolve("features"));
        Random r = new Random(seed);
        int pool = 32, cells = t.gridCells(), channels = t.gridChannels, dim = t.vectorSize;
        float[] grids = new float[pool * cells * channels], vectors = new float[pool * dim];
        for (int i = 0; i < grids.length; i++) grids[i] = (float) r.nextGaussian();
        for (int i = 0; i < vectors.length; i++) vectors[i] = (float) r.nextGaussian();
        StringBuilder names = new StringBuilder();
        StringBuilder tsv = new StringBuilder();
        try (NpyWriter v = NpyWriter.open(feat.resolve(FeatureExtractor.VECTORS), NpyWriter.Dtype.FLOAT32, new long[] {dim}, 0);
             NpyWriter g = NpyWriter.open(feat.resolve(FeatureExtractor.GRID), NpyWriter.Dtype.FLOAT16, new long[] {cells, channels}, 0);
             var captions = Files.newBufferedWriter(folder.resolve("captions.tsv"), StandardCharsets.UTF_8)) {
            for (int done = 0; done < n; done += pool) {
                int k = Math.min(pool, n - done);
                v.append(k == pool ? vectors : java.util.Arrays.copyOf(vectors, k * dim));
                g.append(k == pool ? grids : java.util.Arrays.copyOf(grids, k * cells * channels));
                for (int i = done; i < done + k; i++) {
                    String name = String.format(Locale.ROOT, "img%08d.jpg", i);
                    names.append(name).append('\n');
                    for (int c = 0; c < CAPTIONS_PER_IMAGE; c++) {
                        tsv.setLength(0);
                        tsv.append(name).append('\t');
                        int words = 8 + r.nextInt(7);
                        for (int w = 0; w < words; w++) tsv.append(w == 0 ? "" : " ").append(word(r.nextInt(WORDS)));
                        captions.write(tsv.append('\n').toString());
                    }
                }
            }
        }
        Files.writeString(feat.resolve(FeatureExtractor.NAMES), names);
        ObjectNode meta = JSON.createObjectNode();
        meta.put("format", "captioner-features/1");
        meta.put("encoder", t.id);
        meta.put("weights_sha256", "synthetic");
        meta.put("vector_dim", dim);
        meta.put("grid_side", t.gridSide);
        meta.put("grid_channels", channels);
        meta.put("grid_dtype", "float16");
        meta.put("images", n);
        Files.writeString(feat.resolve(FeatureExtractor.META), JSON.writeValueAsString(meta));
    }

    /** Word {@code i} of the made-up vocabulary, in letters (the vocabulary keeps alphabetic words only): a, b, ..., ba, bb. */
    static String word(int i) {
        StringBuilder sb = new StringBuilder();
        do {
            sb.append((char) ('a' + i % 26));
            i /= 26;
        } while (i > 0);
        return sb.reverse().toString();
    }

    private static long du(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            long total = 0;
            for (Path f : s.filter(Files::isRegularFile).toList()) total += Files.size(f);
            return total;
        }
    }
}
