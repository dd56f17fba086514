package org.captioner.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.captioner.Caption;
import org.captioner.Captioner;
import org.captioner.encoder.NativeSetup;
import org.captioner.image.ImageBatchLoader;
import org.captioner.image.ImageFiles;
import org.captioner.report.HtmlReport;
import org.captioner.util.AtomicFiles;
import org.captioner.util.NativeMemory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

@Command(name = "caption", mixinStandardHelpOptions = true,
        description = {"Caption every image in folders or files (the main job).",
                "JSONL to standard output unless --out; one bad image is reported and the batch goes on.",
                "Exit code 0: all captioned; 1: some images failed (see their \"error\"); 3: nothing could run."})
public final class CaptionCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "INPUT", description = "Image folders or files.")
    List<Path> inputs = new ArrayList<>();
    @Option(names = "--model", description = "Model folder (default: the bundled models/default).")
    Path model;
    @Option(names = "--weights", description = "Encoder weights file (default: CAPTIONER_WEIGHTS_DIR, then the DL4J zoo).")
    Path weights;
    @Option(names = "--out", description = "Output file (written atomically; default: standard output).")
    Path out;
    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl, csv or coco (default: ${DEFAULT-VALUE}).")
    String format;
    @Option(names = "--beam", defaultValue = "3", description = "Beam width (1 = greedy).") int beam;
    @Option(names = "--length-alpha", description = {"Beam length normalisation: rank by logP / length^alpha",
            "(default: the model's recommended value, see models/README.md; 0 = raw log-probability)."}) Double lengthAlpha;
    @Option(names = "--nbest", defaultValue = "1", description = "Also list the n best captions (jsonl).") int nbest;
    @Option(names = "--sample", description = "Sample captions instead of searching.") boolean sample;
    @Option(names = "--temperature", defaultValue = "1.0") double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "Sample among the k likeliest words (0 = all).") int topK;
    @Option(names = "--seed", defaultValue = "42") long seed;
    @Option(names = "--attention", description = "Include per-word attention maps (attention models, jsonl).") boolean attention;
    @Option(names = "--html", paramLabel = "DIR", description = {"Also write a static HTML gallery to DIR (thumbnails, captions,",
            "scores, n-best, per-word attention heatmaps for attention models); open DIR/index.html."}) Path html;
    @Option(names = "--threads", defaultValue = "2", description = "Image decoding threads.") int threads;
    @Option(names = "--batch", defaultValue = "16", description = "Images per network batch.") int batch;
    @Option(names = "--recursive", description = "Descend into sub-folders.") boolean recursive;
    @Option(names = "--resume", description = "Skip images already in --out and append the rest.") boolean resume;
    @Option(names = "--overwrite", description = "Replace an existing --out.") boolean overwrite;
    @Option(names = "--no-progress", description = "No progress bar.") boolean noProgress;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        Options.positive(spec, "--beam", beam);
        if (lengthAlpha != null) Options.range(spec, "--length-alpha", lengthAlpha, 0, 2);
        Options.positive(spec, "--nbest", nbest);
        Options.positive(spec, "--threads", threads);
        Options.positive(spec, "--batch", batch);
        Options.range(spec, "--temperature", temperature, 1e-3, 100);
        if (topK < 0) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--top-k must be >= 0");
        if (!sample && nbest > beam) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--nbest cannot exceed --beam");
        if (!List.of("jsonl", "csv", "coco").contains(format)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--format must be jsonl, csv or coco");
        }
        if (out == null && resume) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--resume needs --out");
        if (out != null && Files.exists(out) && !overwrite && !resume) {
            err().println("error: " + out + " exists; pass --overwrite to replace it or --resume to continue it");
            return Main.EXIT_FATAL;
        }
        List<ImageFiles.Input> all = ImageFiles.collect(inputs, recursive);
        if (all.isEmpty()) {
            err().println("error: no images found in " + inputs);
            return Main.EXIT_FATAL;
        }
        Set<String> done = resume && out != null && Files.exists(out) ? alreadyDone(out) : Set.of();
        List<ImageFiles.Input> todo = all.stream().filter(i -> !done.contains(i.name())).toList();
        NativeSetup.init();
        Captioner.Builder b = Captioner.builder().beam(beam).nbest(nbest).weights(weights);
        if (lengthAlpha != null) b.lengthAlpha(lengthAlpha);
        if (sample) b.sample(temperature, topK, seed);
        Path modelDir = model != null ? model : Captioner.defaultModel();
        Captioner captioner = b.build(modelDir);
        HtmlReport report = html == null ? null
                : new HtmlReport(html, "Captioner: " + modelDir.toAbsolutePath().normalize().getFileName() + " on " + inputs.stream().map(Path::toString).collect(java.util.stream.Collectors.joining(", ")), overwrite);

        long t0 = System.nanoTime();
        int[] counts; // {captioned, failed}
        if (out == null) {
            Writer w = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
            counts = captionAll(captioner, todo, w, report);
            w.flush();
        } else {
            int[][] holder = new int[1][];
            // temp file beside --out, renamed over it only when complete: an interrupted run leaves --out as it was
            AtomicFiles.write(out, os -> {
                Writer w = new BufferedWriter(new OutputStreamWriter(os, StandardCharsets.UTF_8));
                holder[0] = captionAll(captioner, todo, w, report);
                w.flush();
            });
            counts = holder[0];
        }
        int ok = counts[0], failed = counts[1];
        if (report != null) {
            report.finish();
            err().println("report: " + report.index().toAbsolutePath());
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        err().printf("captioned %d images, %d failed, %d skipped (already done) in %.1f s (%.1f images/s)%s%n", ok, failed,
                all.size() - todo.size(), secs, (ok + failed) / Math.max(secs, 1e-9), out == null ? "" : " -> " + out);
        err().flush();
        if (ok == 0 && failed > 0) return Main.EXIT_FATAL;
        return failed > 0 ? Main.EXIT_PARTIAL : Main.EXIT_OK;
    }

    /** Streams the images through decoding and the networks into {@code w}; returns {captioned, failed}. */
    private int[] captionAll(Captioner captioner, List<ImageFiles.Input> todo, Writer w, HtmlReport report) throws IOException {
        int ok = 0, failed = 0;
        try (ImageBatchLoader loader = new ImageBatchLoader(captioner.imageDecoder(), captioner.preprocessor(), threads, 2);
             ProgressBar pb = noProgress ? null : new ProgressBarBuilder().setTaskName("caption").setInitialMax(todo.size())
                     .setUnit(" img", 1).showSpeed().setUpdateIntervalMillis(1000).setMaxRenderedLength(100)
                     .setConsumer(new ConsoleProgressBarConsumer(System.err)).build()) {
            Output o = new Output(w, format);
            NativeMemory memory = new NativeMemory(256);
            if (resume && out != null && Files.exists(out)) o.copyExisting(out);
            Iterator<ImageBatchLoader.Batch> it = loader.batches(todo.stream().map(ImageFiles.Input::file).toList(), batch);
            while (it.hasNext()) {
                ImageBatchLoader.Batch bt = it.next();
                List<Caption> caps = bt.images() == null ? List.of() : captioner.captionTensor(bt.images());
                int k = 0;
                for (ImageBatchLoader.Item item : bt.items()) {
                    String name = todo.get(item.index()).name();
                    if (item.ok()) {
                        Caption c = caps.get(k++);
                        o.write(name, c, nbest > 1, attention);
                        if (report != null) report.add(name, todo.get(item.index()).file(), c);
                        ok++;
                    } else {
                        o.error(name, item.error());
                        if (report != null) report.addError(name, item.error());
                        failed++;
                    }
                }
                w.flush();
                memory.processed(bt.items().size());
                if (pb != null) pb.stepBy(bt.items().size());
            }
            o.finish();
        }
        return new int[] {ok, failed};
    }

    private java.io.PrintWriter err() {
        return spec.commandLine().getErr();
    }

    private static Set<String> alreadyDone(Path file) throws IOException {
        Set<String> s = new HashSet<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            try {
                JsonNode n = JSON.readTree(line);
                if (n.has("image") && n.has("caption")) s.add(n.get("image").asText());
            } catch (IOException e) {
                // a torn last line from an interrupted run: that image is captioned again
            }
        }
        return s;
    }

    /** Writes one format; COCO results are a JSON array, so they are collected and written at the end. */
    private static final class Output {
        private static final Pattern COCO_ID = Pattern.compile("(\\d{6,12})\\.(?i:jpe?g|png)$");
        private final Writer w;
        private final String format;
        private final List<Map<String, Object>> coco = new ArrayList<>();
        private final com.fasterxml.jackson.databind.ObjectWriter csv =
                new CsvMapper().writer(CsvSchema.builder().addColumn("image").addColumn("caption").addColumn("score").build());
        private boolean headerDone;

        Output(Writer w, String format) {
            this.w = w;
            this.format = format;
        }

        void copyExisting(Path file) throws IOException {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                try {
                    JsonNode n = JSON.readTree(line);
                    if (n.has("caption")) w.write(line + "\n");
                } catch (IOException e) {
                    // torn line: dropped, the image is redone
                }
            }
        }

        void write(String image, Caption c, boolean withNbest, boolean withAttention) throws IOException {
            switch (format) {
                case "csv" -> {
                    if (!headerDone) {
                        w.write("image,caption,score\n");
                        headerDone = true;
                    }
                    w.write(csv.writeValueAsString(new Object[] {image, c.text(), c.score()}));
                }
                case "coco" -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    Matcher id = COCO_ID.matcher(image);
                    if (id.find()) m.put("image_id", Long.parseLong(id.group(1)));
                    m.put("file_name", image);
                    m.put("caption", c.text());
                    coco.add(m);
                }
                default -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("image", image);
                    m.put("caption", c.text());
                    m.put("score", c.score());
                    if (withNbest) {
                        List<Map<String, Object>> nb = new ArrayList<>();
                        for (Caption x : c.nbest()) nb.add(Map.of("caption", x.text(), "score", x.score()));
                        m.put("nbest", nb);
                    }
                    if (withAttention && !c.attention().isEmpty()) {
                        Map<String, Object> att = new LinkedHashMap<>();
                        List<String> words = new ArrayList<>(c.tokens());
                        words.add("<end>");
                        att.put("words", words);
                        att.put("maps", c.attention());
                        m.put("attention", att);
                    }
                    w.write(JSON.writeValueAsString(m) + "\n");
                }
            }
        }

        void error(String image, String reason) throws IOException {
            if (format.equals("jsonl")) w.write(JSON.writeValueAsString(Map.of("image", image, "error", reason)) + "\n");
            System.err.println("warning: " + image + ": " + reason);
        }

        void finish() throws IOException {
            if (format.equals("coco")) w.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(coco) + "\n");
        }
    }
}
