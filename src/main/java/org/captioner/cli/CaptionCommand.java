package org.captioner.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import org.captioner.Caption;
import org.captioner.CaptionJson;
import org.captioner.Captioner;
import org.captioner.encoder.NativeSetup;
import org.captioner.image.ImageBatchLoader;
import org.captioner.image.ImageFiles;
import org.captioner.report.HtmlReport;
import org.captioner.util.AtomicFiles;
import org.captioner.util.NativeMemory;
import org.captioner.util.Progress;
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
    @Option(names = "--weights", description = "Encoder weights file (default: CAPTIONER_WEIGHTS_DIR, the cache, the pinned download, then the DL4J zoo).")
    Path weights;
    @Option(names = "--out", description = {"Output file (default: standard output). Progress is kept in FILE.progress as the run goes;",
            "FILE appears, complete, when the run ends."})
    Path out;
    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl, csv or coco.")
    String format;
    @Option(names = "--beam", defaultValue = "3", description = "Beam width (1 = greedy).") int beam;
    @Option(names = "--length-alpha", description = {"Beam length normalisation: rank by logP / length^alpha",
            "(default: the model's recommended value, recorded in its config.json; 0 = raw log-probability)."}) Double lengthAlpha;
    @Option(names = "--nbest", defaultValue = "1", description = "Also list the n best captions (jsonl).") int nbest;
    @Option(names = "--sample", description = "Sample captions instead of searching.") boolean sample;
    @Option(names = "--temperature", defaultValue = "1.0", description = "With --sample: divides the log-probabilities before sampling (below 1: safer words, above 1: more varied).") double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "Sample among the k likeliest words (0 = all).") int topK;
    @Option(names = "--seed", defaultValue = "42", description = "With --sample: random seed (the same seed gives the same captions).") long seed;
    @Option(names = "--attention", description = "Include per-word attention maps (attention models, jsonl).") boolean attention;
    @Option(names = "--html", paramLabel = "DIR", description = {"Also write a static HTML gallery to DIR (thumbnails, captions,",
            "scores, n-best, per-word attention heatmaps for attention models); open DIR/index.html."}) Path html;
    @Option(names = "--threads", defaultValue = "2", description = "Image decoding threads.") int threads;
    @Option(names = "--batch", defaultValue = "16", description = "Images per network batch.") int batch;
    @Option(names = "--recursive", description = "Descend into sub-folders.") boolean recursive;
    @Option(names = "--resume", description = {"Continue an interrupted run: keep the images in its progress file (--out + .progress)",
            "or in an existing JSONL --out, and caption the rest."}) boolean resume;
    @Option(names = "--overwrite", description = "Replace an existing --out.") boolean overwrite;
    @Option(names = "--no-progress", description = "No progress bar.") boolean noProgress;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        Options.decoding(spec, beam, nbest, sample, temperature, topK, lengthAlpha);
        Options.positive(spec, "--threads", threads);
        Options.positive(spec, "--batch", batch);
        if (!List.of("jsonl", "csv", "coco").contains(format)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--format must be jsonl, csv or coco");
        }
        if (out == null && resume) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--resume needs --out");
        if (!format.equals("jsonl") && (nbest > 1 || attention)) {
            err().println("note: --format " + format + " holds one caption per image: the " + (nbest > 1 && attention
                    ? "n-best lists and attention maps" : nbest > 1 ? "n-best lists" : "attention maps")
                    + " are not written (--format jsonl holds them)");
        }
        Path journalFile = out == null ? null : CaptionJournal.pathFor(out);
        if (out != null) staleTempFiles(out, resume);
        if (out != null && !overwrite && !resume) {
            if (Files.exists(out)) {
                err().println("error: " + out + " exists; pass --overwrite to replace it or --resume to continue it");
                return Main.EXIT_FATAL;
            }
            if (Files.exists(journalFile)) {
                err().println("error: " + journalFile + " holds the progress of an interrupted run; pass --resume to continue it"
                        + " or --overwrite to start over");
                return Main.EXIT_FATAL;
            }
        }
        List<ImageFiles.Input> all = ImageFiles.collect(inputs, recursive);
        if (all.isEmpty()) {
            err().println("error: no images found in " + inputs);
            return Main.EXIT_FATAL;
        }
        // what earlier runs did: the progress file of an interrupted run, else a finished JSONL output
        Map<String, CaptionJournal.Row> previous = new LinkedHashMap<>();
        if (out != null) {
            if (overwrite) Files.deleteIfExists(journalFile);
            if (resume && Files.exists(journalFile)) previous = CaptionJournal.read(journalFile);
            else if (resume && Files.exists(out) && format.equals("jsonl")) previous = CaptionJournal.readJsonlOutput(out);
            previous.values().removeIf(r -> !r.ok());       // images that failed are tried again
        }
        Set<String> done = previous.keySet();
        List<ImageFiles.Input> todo = all.stream().filter(i -> !done.contains(i.name())).toList();
        NativeSetup.init();
        Captioner.Builder b = Captioner.builder().beam(beam).nbest(nbest).weights(weights);
        if (lengthAlpha != null) b.lengthAlpha(lengthAlpha);
        if (sample) b.sample(temperature, topK, seed);
        Path modelDir = model != null ? model : Captioner.defaultModel();
        Captioner captioner = b.build(modelDir);
        // with --resume the report is rebuilt over every image of the output, earlier runs' included
        HtmlReport report = html == null ? null
                : new HtmlReport(html, "Captioner: " + modelDir.toAbsolutePath().normalize().getFileName() + " on " + inputs.stream().map(Path::toString).collect(java.util.stream.Collectors.joining(", ")), overwrite || resume,
                        captioner.model().config().type() == org.captioner.model.DecoderType.HARD_ATTENTION);
        if (report != null && !previous.isEmpty()) {
            Map<String, Path> files = new java.util.HashMap<>();
            for (ImageFiles.Input i : all) files.put(i.name(), i.file());
            for (CaptionJournal.Row r : previous.values()) {
                if (files.containsKey(r.image())) report.add(r.image(), files.get(r.image()), r.caption());
            }
        }

        long t0 = System.nanoTime();
        int[] counts; // {captioned, failed}
        if (out == null) {
            Writer w = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
            Output o = new Output(w, format);
            counts = captionAll(captioner, todo, rows -> {
                for (CaptionJournal.Row r : rows) o.write(r);
                w.flush();
            }, report);
            o.finish();
            w.flush();
        } else {
            try (CaptionJournal journal = CaptionJournal.open(journalFile, 2_000, attention || html != null)) {
                // rows continued from a finished output go into the fresh progress file first
                if (Files.size(journalFile) == 0) journal.append(List.copyOf(previous.values()));
                counts = captionAll(captioner, todo, journal::append, report);
            } catch (IOException e) {
                err().println("error: cannot write the progress of this run to " + journalFile + ": " + e.getMessage()
                        + ". Every image written before is kept there; run the same command with --resume once the problem is fixed.");
                return Main.EXIT_FATAL;
            }
            // the output in its format, from the progress file, in input order; temp file renamed over --out at the end
            Map<String, CaptionJournal.Row> rows = CaptionJournal.read(journalFile);
            Map<String, CaptionJournal.Row> ordered = new LinkedHashMap<>();
            for (ImageFiles.Input i : all) if (rows.containsKey(i.name())) ordered.put(i.name(), rows.get(i.name()));
            ordered.putAll(rows);
            try {
                AtomicFiles.write(out, os -> {
                    Writer w = new BufferedWriter(new OutputStreamWriter(os, StandardCharsets.UTF_8));
                    Output o = new Output(w, format);
                    for (CaptionJournal.Row r : ordered.values()) o.write(r);
                    o.finish();
                    w.flush();
                    if (Boolean.getBoolean("captioner.test.pauseBeforeRename")) {           // kill-test hook
                        org.captioner.util.KillTestHooks.pause("pausing before the final rename");
                    }
                });
            } catch (IOException e) {
                err().println("error: cannot write " + out + ": " + e.getMessage() + ". The captions are kept in " + journalFile
                        + "; run the same command with --resume once the problem is fixed.");
                return Main.EXIT_FATAL;
            }
            Files.delete(journalFile);
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
        if (ok + previous.size() == 0 && failed > 0) return Main.EXIT_FATAL;
        return failed > 0 ? Main.EXIT_PARTIAL : Main.EXIT_OK;
    }

    /** Where a batch's rows go: standard output, or the progress file. */
    @FunctionalInterface
    private interface RowSink {
        void accept(List<CaptionJournal.Row> rows) throws IOException;
    }

    /** Streams the images through decoding and the networks into {@code sink}, batch by batch; returns {captioned, failed}. */
    private int[] captionAll(Captioner captioner, List<ImageFiles.Input> todo, RowSink sink, HtmlReport report) throws IOException {
        int ok = 0, failed = 0;
        try (ImageBatchLoader loader = new ImageBatchLoader(captioner.imageDecoder(), captioner.preprocessor(), threads, 2);
             Progress pb = Progress.start("caption", todo.size(), "images", !noProgress)) {
            NativeMemory memory = new NativeMemory(256);
            Iterator<ImageBatchLoader.Batch> it = loader.batches(todo.stream().map(ImageFiles.Input::file).toList(), batch);
            while (it.hasNext()) {
                ImageBatchLoader.Batch bt = it.next();
                List<Caption> caps = bt.images() == null ? List.of() : captioner.captionTensor(bt.images());
                List<CaptionJournal.Row> rows = new ArrayList<>();
                int k = 0;
                for (ImageBatchLoader.Item item : bt.items()) {
                    String name = todo.get(item.index()).name();
                    if (item.ok()) {
                        Caption c = caps.get(k++);
                        rows.add(new CaptionJournal.Row(name, c, null));
                        if (report != null) report.add(name, todo.get(item.index()).file(), c);
                        ok++;
                    } else {
                        rows.add(new CaptionJournal.Row(name, null, item.error()));
                        System.err.println("warning: " + name + ": " + item.error());
                        if (report != null) report.addError(name, item.error());
                        failed++;
                    }
                }
                sink.accept(rows);
                memory.processed(bt.items().size());
                pb.stepBy(bt.items().size());
            }
        }
        return new int[] {ok, failed};
    }

    /**
     * Temp files of crashed final renames ({@code .OUT*.tmp} beside --out). Their rows are in the progress file (or
     * are redone), so --resume deletes them; other runs name them, since a concurrent run may own one.
     */
    private void staleTempFiles(Path out, boolean adopt) throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) return;
        String prefix = "." + out.getFileName();
        try (var s = Files.list(dir)) {
            for (Path f : s.filter(f -> f.getFileName().toString().startsWith(prefix) && f.getFileName().toString().endsWith(".tmp")).toList()) {
                if (adopt) {
                    Files.deleteIfExists(f);
                    err().println("resume: removed " + f + ", a temp file left by an interrupted run (its rows are in the progress file or redone)");
                } else {
                    err().println("warning: " + f + " is a temp file left by an interrupted run (or a run still going); --resume removes it");
                }
            }
        }
    }

    private java.io.PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** Writes one format; COCO results are a JSON array, so they are collected and written at the end. */
    private final class Output {
        private static final Pattern COCO_ID = Pattern.compile("(\\d{6,12})\\.(?i:jpe?g|png)$");
        private final Writer w;
        private final String format;
        private final List<Map<String, Object>> coco = new ArrayList<>();
        private final com.fasterxml.jackson.databind.ObjectWriter csv = new CsvMapper().writer(CsvSchema.builder()
                .addColumn("image").addColumn("caption").addColumn("score").addColumn("error").build());
        private boolean headerDone;
        private int errors;
        private final boolean withNbest = nbest > 1, withAttention = attention;

        Output(Writer w, String format) {
            this.w = w;
            this.format = format;
        }

        void write(CaptionJournal.Row r) throws IOException {
            if (r.ok()) write(r.image(), r.caption(), withNbest, withAttention);
            else error(r.image(), r.error());
        }

        void write(String image, Caption c, boolean withNbest, boolean withAttention) throws IOException {
            switch (format) {
                case "csv" -> csvRow(image, c.text(), c.score(), "");
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
                    CaptionJson.fields(m, c, withNbest, withAttention);
                    w.write(JSON.writeValueAsString(m) + "\n");
                }
            }
        }

        /** One CSV row (image, caption, score, error): a failed image has an empty caption and score and its reason. */
        private void csvRow(String image, String caption, Object score, String error) throws IOException {
            if (!headerDone) {
                w.write("image,caption,score,error\n");
                headerDone = true;
            }
            w.write(csv.writeValueAsString(new Object[] {image, caption, score, error}));
        }

        void error(String image, String reason) throws IOException {
            errors++;
            switch (format) {
                case "csv" -> csvRow(image, "", "", reason);
                case "jsonl" -> {
                    Map<String, Object> m = new LinkedHashMap<>();              // keys in a fixed order, image first
                    m.put("image", image);
                    m.put("error", reason);
                    w.write(JSON.writeValueAsString(m) + "\n");
                }
                default -> { }                                                  // COCO results hold captions only: see finish()
            }
        }

        void finish() throws IOException {
            if (!format.equals("coco")) return;
            w.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(coco) + "\n");
            if (errors > 0) {
                err().println("note: " + errors + (errors == 1 ? " image" : " images") + " failed; the COCO results file holds"
                        + " captions only, so it does not list them (their reasons are above; --format jsonl or csv keeps them as rows)");
            }
        }
    }
}
