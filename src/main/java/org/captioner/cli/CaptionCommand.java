package org.captioner.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import org.captioner.CaptionRecord;
import org.captioner.ImageInput;
import org.captioner.decode.DecodeOptions;
import org.captioner.encoder.NativeSetup;
import org.captioner.image.ImageFiles;
import org.captioner.pipeline.CaptionPipeline;
import org.captioner.report.HtmlReport;
import org.captioner.util.AtomicFiles;
import org.captioner.util.FaultPoint;
import org.captioner.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
    @Mixin
    ModelOptions model = new ModelOptions();
    @Option(names = "--out", description = {"Output file (default: standard output). Progress is kept in FILE.progress as the run goes;",
            "FILE appears, complete, when the run ends."})
    Path out;
    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl, csv or coco.")
    String format;
    @Mixin
    DecodingOptions decoding = new DecodingOptions();
    @Option(names = "--attention", description = "Include per-word attention maps (attention models, jsonl).") boolean attention;
    @Option(names = "--html", paramLabel = "DIR", description = {"Also write a static HTML gallery to DIR (thumbnails, captions,",
            "scores, n-best, per-word attention heatmaps for attention models); open DIR/index.html."}) Path html;
    @Mixin
    ImageOptions images = new ImageOptions();
    @Option(names = "--resume", description = {"Continue an interrupted run: keep the images in its progress file (--out + .progress)",
            "or in an existing JSONL --out, and caption the rest."}) boolean resume;
    @Option(names = "--overwrite", description = "Replace an existing --out.") boolean overwrite;
    @Option(names = "--no-progress", description = "No progress bar.") boolean noProgress;
    @Option(names = "--stats-json", paramLabel = "FILE", description = {"Also write the run's figures as JSON to FILE (images, captioned, failed,",
            "skipped, seconds, images_per_second, seconds per pipeline stage): for benchmarks and scripts."}) Path statsJson;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        decoding.check(spec);
        images.check(spec);
        int nbest = decoding.nbest;
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
        List<ImageInput> all = ImageFiles.collect(inputs, images.recursive);
        if (all.isEmpty()) {
            err().println("error: no images found in " + inputs);
            return Main.EXIT_FATAL;
        }
        // what earlier runs did: the progress file of an interrupted run, else a finished JSONL output
        Map<String, CaptionRecord> previous = new LinkedHashMap<>();
        if (out != null) {
            if (overwrite) Files.deleteIfExists(journalFile);
            if (resume && Files.exists(journalFile)) previous = CaptionJournal.read(journalFile);
            else if (resume && Files.exists(out) && format.equals("jsonl")) previous = CaptionJournal.readJsonlOutput(out);
            previous.values().removeIf(r -> !r.ok());       // images that failed are tried again
        }
        Set<String> done = previous.keySet();
        List<ImageInput> todo = all.stream().filter(i -> !done.contains(i.name())).toList();
        NativeSetup.init();
        Path modelDir = model.modelDir();
        CaptionPipeline pipeline = CaptionPipeline.load(modelDir, model.weights);
        DecodeOptions options = decoding.resolve(pipeline);
        // with --resume the report is rebuilt over every image of the output, earlier runs' included
        HtmlReport report = html == null ? null
                : new HtmlReport(html, "Captioner: " + modelDir.toAbsolutePath().normalize().getFileName() + " on " + inputs.stream().map(Path::toString).collect(java.util.stream.Collectors.joining(", ")), overwrite || resume,
                        pipeline.model().config().type() == org.captioner.model.DecoderType.HARD_ATTENTION);
        Map<String, Path> files = new java.util.HashMap<>();          // the report's pictures, by image name
        if (report != null) for (ImageInput i : all) files.put(i.name(), i.file());
        if (report != null && !previous.isEmpty()) {
            for (CaptionRecord r : previous.values()) {
                if (files.containsKey(r.image())) report.add(r.image(), files.get(r.image()), r.caption());
            }
        }

        long t0 = System.nanoTime(), startedMs = System.currentTimeMillis();
        int[] counts; // {captioned, failed}
        if (out == null) {
            Writer w = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
            Output o = new Output(w, format);
            counts = captionAll(pipeline, options, todo, files, rows -> {
                for (CaptionRecord r : rows) o.write(r);
                w.flush();
            }, report);
            o.finish();
            w.flush();
        } else {
            try (CaptionJournal journal = CaptionJournal.open(journalFile, 2_000, attention || html != null)) {
                // rows continued from a finished output go into the fresh progress file first
                if (Files.size(journalFile) == 0) journal.append(List.copyOf(previous.values()));
                counts = captionAll(pipeline, options, todo, files, journal::append, report);
            } catch (IOException e) {
                err().println("error: cannot write the progress of this run to " + journalFile + ": " + e.getMessage()
                        + ". Every image written before is kept there; run the same command with --resume once the problem is fixed.");
                return Main.EXIT_FATAL;
            }
            // the output in its format, from the progress file row by row, in input order (rows of images not in this
            // run's inputs, from a resumed earlier one, after them); temp file renamed over --out at the end
            Map<String, long[]> index = CaptionJournal.index(journalFile);
            List<long[]> order = new ArrayList<>(index.size());
            for (ImageInput i : all) {
                long[] at = index.remove(i.name());
                if (at != null) order.add(at);
            }
            order.addAll(index.values());
            try (java.nio.channels.FileChannel rows = java.nio.channels.FileChannel.open(journalFile)) {
                AtomicFiles.write(out, os -> {
                    Writer w = new BufferedWriter(new OutputStreamWriter(os, StandardCharsets.UTF_8));
                    Output o = new Output(w, format);
                    for (long[] at : order) o.write(CaptionJournal.row(rows, at));
                    o.finish();
                    w.flush();
                    FaultPoint.at("caption.before-rename", order.size());
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
        Map<String, Double> stages = pipeline.times().seconds();
        pipeline.close();
        if (statsJson != null) {
            Map<String, Object> st = new LinkedHashMap<>();
            st.put("images", all.size());
            st.put("captioned", ok);
            st.put("failed", failed);
            st.put("skipped", all.size() - todo.size());
            st.put("seconds", secs);
            st.put("images_per_second", (ok + failed) / Math.max(secs, 1e-9));
            st.put("stage_seconds", stages);
            // JVM start, class loading, model and encoder loading: everything before the first image
            st.put("seconds_before_first_image", (startedMs - java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime()) / 1e3);
            AtomicFiles.writeString(statsJson, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(st) + "\n");
        }
        if (ok + previous.size() == 0 && failed > 0) return Main.EXIT_FATAL;
        return failed > 0 ? Main.EXIT_PARTIAL : Main.EXIT_OK;
    }

    /** Where a batch's records go: standard output, or the progress file. */
    @FunctionalInterface
    private interface RecordSink {
        void accept(List<CaptionRecord> records) throws IOException;
    }

    /** Streams the images through the pipeline into {@code sink}, batch by batch; returns {captioned, failed}. */
    private int[] captionAll(CaptionPipeline pipeline, DecodeOptions options, List<ImageInput> todo, Map<String, Path> files, RecordSink sink,
                             HtmlReport report) throws IOException {
        int ok = 0, failed = 0;
        try (var batches = pipeline.caption(todo.iterator(), options, images.batch, images.threads, true);
             Progress pb = Progress.start("caption", todo.size(), "images", !noProgress)) {
            while (batches.hasNext()) {
                List<CaptionRecord> records = batches.next();
                for (CaptionRecord r : records) {
                    if (r.ok()) {
                        if (report != null) report.add(r.image(), files.get(r.image()), r.caption());
                        ok++;
                    } else {
                        System.err.println("warning: " + r.image() + ": " + r.error());
                        if (report != null) report.addError(r.image(), r.error());
                        failed++;
                    }
                }
                sink.accept(records);
                pb.stepBy(records.size());
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

    /** Writes one format, each from the record; COCO results are a JSON array, so they are collected and written at the end. */
    private final class Output {
        private final Writer w;
        private final String format;
        private final List<Map<String, Object>> coco = new ArrayList<>();
        private final com.fasterxml.jackson.databind.ObjectWriter csv;
        private boolean headerDone;
        private int errors;

        Output(Writer w, String format) {
            this.w = w;
            this.format = format;
            CsvSchema.Builder cols = CsvSchema.builder();
            for (CaptionRecord.Field f : CaptionRecord.CSV_COLUMNS) cols.addColumn(f.key());
            this.csv = new CsvMapper().writer(cols.build());
        }

        void write(CaptionRecord r) throws IOException {
            if (!r.ok()) errors++;
            switch (format) {
                case "csv" -> {
                    if (!headerDone) {
                        w.write(String.join(",", CaptionRecord.CSV_COLUMNS.stream().map(CaptionRecord.Field::key).toList()) + "\n");
                        headerDone = true;
                    }
                    w.write(csv.writeValueAsString(r.csvRow()));
                }
                case "coco" -> {
                    if (r.ok()) coco.add(r.cocoEntry());                          // COCO results hold captions only: see finish()
                }
                default -> w.write(JSON.writeValueAsString(r.json(true, decoding.nbest > 1, attention)) + "\n");
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
