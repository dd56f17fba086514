package org.captioner.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.util.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code captioner models table}: the results tables of the README and {@code docs/results.md}, generated from the
 * files the models themselves carry ({@code config.json}, {@code training.json}, {@code evaluation.json},
 * {@code training-log.csv}) and the training logs in {@code models/logs/}, so that no figure is typed by hand.
 * {@code --write} replaces each table between its {@code <!-- table:NAME -->} and {@code <!-- /table:NAME -->}
 * markers; {@code ModelsTableTest} fails when a committed table differs from what this generates.
 */
@Command(name = "models", mixinStandardHelpOptions = true, description = "About the model bundles in models/.",
        subcommands = ModelsCommand.Table.class)
public final class ModelsCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: table");
    }

    @Command(name = "table", mixinStandardHelpOptions = true,
            description = {"Print the results tables generated from models/ (the bundle's own files and models/logs);",
                    "with --write, put them into README.md and docs/results.md between their markers."})
    static final class Table implements Callable<Integer> {
        @Option(names = "--models", defaultValue = "models", description = "The models folder.")
        Path models;
        @Option(names = "--write", description = "Replace the tables in the files named by --docs.")
        boolean write;
        @Option(names = "--docs", split = ",", defaultValue = "README.md,docs/results.md",
                description = "Files whose marked tables --write replaces.")
        List<Path> docs;

        @Override
        public Integer call() throws Exception {
            Map<String, String> tables = tables(models);
            if (!write) {
                for (var e : tables.entrySet()) System.out.println("<!-- table:" + e.getKey() + " -->\n" + e.getValue());
                return Main.EXIT_OK;
            }
            for (Path doc : docs) {
                String text = Files.readString(doc, StandardCharsets.UTF_8);
                String updated = fill(text, tables);
                if (!updated.equals(text)) {
                    AtomicFiles.writeString(doc, updated);
                    System.err.println("updated " + doc);
                }
            }
            return Main.EXIT_OK;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Every generated table by name, each a Markdown table ending in a newline. */
    public static Map<String, String> tables(Path models) throws IOException {
        Map<String, String> t = new LinkedHashMap<>();
        t.put("default", defaultModel(models.resolve("default")));
        t.put("default-epochs", defaultEpochs(models));
        t.put("decoders", decoders(models.resolve("logs")));
        return t;
    }

    /** Replaces each marked table of {@code text} with the generated one; an unknown marker name is an error. */
    public static String fill(String text, Map<String, String> tables) {
        StringBuilder out = new StringBuilder();
        int pos = 0;
        while (true) {
            int open = text.indexOf("<!-- table:", pos);
            if (open < 0) break;
            int nameEnd = text.indexOf(" -->", open);
            String name = text.substring(open + "<!-- table:".length(), nameEnd);
            String closing = "<!-- /table:" + name + " -->";
            int close = text.indexOf(closing, nameEnd);
            if (close < 0) throw new IllegalArgumentException("table '" + name + "' has no closing marker " + closing);
            String table = tables.get(name);
            if (table == null) throw new IllegalArgumentException("no generated table named '" + name + "'; known: " + tables.keySet());
            out.append(text, pos, nameEnd + 4).append('\n').append(table);
            pos = close;
            out.append(closing);
            pos += closing.length();
        }
        return out.append(text.substring(pos)).toString();
    }

    /**
     * The bundled default: what it is, what it was trained on, its dev scores at its recorded length alpha, and its
     * speed (evaluation.json's {@code speed}: the commands and the machine they ran on).
     */
    static String defaultModel(Path dir) throws IOException {
        JsonNode config = JSON.readTree(dir.resolve("config.json").toFile());
        JsonNode training = JSON.readTree(dir.resolve("training.json").toFile());
        JsonNode eval = JSON.readTree(dir.resolve("evaluation.json").toFile());
        JsonNode dec = config.get("decoder");
        String decoder = dec.get("type").asText() + (dec.has("attention_map") ? " (" + dec.get("attention_map").asText() + ")" : "")
                + ", " + String.format(Locale.ROOT, "%,d", dec.get("parameters").asLong()) + " parameters";
        int epochs = csv(dir.resolve("training-log.csv")).size();
        String objective = training.has("scst_init")
                ? training.get("scst_init").path("best_epoch").asInt() + " epochs cross-entropy, then " + epochs + " self-critical (CIDEr-D reward)"
                : epochs + " epochs cross-entropy";
        String data = String.format(Locale.ROOT, "Flickr8k train (%,d images), selected on dev (%,d)", training.get("train_images").asInt(),
                training.get("dev_images").asInt());
        StringBuilder sb = new StringBuilder();
        JsonNode speed = eval.path("speed");
        double lo = Double.MAX_VALUE, hi = 0;
        for (JsonNode v : speed.path("caption_images_per_s_whole_command")) {
            lo = Math.min(lo, v.asDouble());
            hi = Math.max(hi, v.asDouble());
        }
        double rss = 0;
        for (JsonNode v : speed.path("caption_peak_rss_gb")) rss = Math.max(rss, v.asDouble());
        String speedText = hi == 0 ? "" : String.format(Locale.ROOT, "`caption`: %.1f-%.1f images/s, peak RSS %.1f GB; `decode`: %.1f ms/image",
                lo, hi, rss, speed.path("decode_ms_per_image").asDouble());
        sb.append("| model | encoder | decoder | training | data | dev: BLEU-1 | BLEU-4 | ROUGE-L | CIDEr-D | search | speed, 2 cores |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        sb.append(String.format(Locale.ROOT, "| `models/default` | %s | %s | %s | %s | %.3f | %.3f | %.3f | **%.3f** | %s | %s |%n",
                config.get("encoder").get("name").asText(), decoder, objective, data, eval.get("BLEU-1").asDouble(),
                eval.get("BLEU-4").asDouble(), eval.get("ROUGE-L").asDouble(), eval.get("CIDEr-D").asDouble(),
                "beam " + eval.path("beam").asInt(3) + ", length alpha " + config.path("decoding").path("length_alpha").asText("0"),
                speedText));
        return sb.toString();
    }

    /** The default's training run, epoch by epoch: its cross-entropy stage (models/logs/attention.csv), then its own log. */
    static String defaultEpochs(Path models) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("| stage | epoch | train loss | dev BLEU-4 (raw) | dev CIDEr-D (raw) | dev CIDEr-D, greedy | train tokens/s |\n");
        sb.append("|---|---|---|---|---|---|---|\n");
        for (Map<String, String> r : csv(models.resolve("logs/attention.csv"))) {
            sb.append(String.format(Locale.ROOT, "| cross-entropy | %s | %.3f | %.3f | %.3f | | %,.0f |%n", r.get("epoch"),
                    num(r, "train_loss"), num(r, "dev_BLEU-4"), num(r, "dev_CIDEr-D"), num(r, "tokens_per_s")));
        }
        for (Map<String, String> r : csv(models.resolve("default/training-log.csv"))) {
            sb.append(String.format(Locale.ROOT, "| self-critical | %s | %.3f | %.3f | %.3f | %s | %,.0f |%n", r.get("epoch"),
                    num(r, "train_loss"), num(r, "dev_BLEU-4"), num(r, "dev_CIDEr-D"),
                    r.containsKey("dev_greedy_CIDEr-D") ? String.format(Locale.ROOT, "%.3f", num(r, "dev_greedy_CIDEr-D")) : "",
                    num(r, "tokens_per_s")));
        }
        return sb.toString();
    }

    /** Each decoder trained with the same recipe (models/logs/*.csv): dev CIDEr-D per epoch, best epoch in bold. */
    static String decoders(Path logs) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(logs)) {
            files = s.filter(p -> p.toString().endsWith(".csv")).sorted().toList();
        }
        int maxEpochs = 0;
        List<List<Map<String, String>>> rows = new ArrayList<>();
        for (Path f : files) {
            List<Map<String, String>> r = csv(f);
            rows.add(r);
            maxEpochs = Math.max(maxEpochs, r.size());
        }
        StringBuilder sb = new StringBuilder("| log | epochs | best epoch | dev BLEU-4 at best | ");
        for (int e = 1; e <= maxEpochs; e++) sb.append(e).append(" | ");
        sb.append("train tokens/s |\n|---|---|---|---|");
        sb.append("---|".repeat(maxEpochs)).append("---|\n");
        for (int i = 0; i < files.size(); i++) {
            List<Map<String, String>> r = rows.get(i);
            int best = 0;
            for (int e = 1; e < r.size(); e++) if (num(r.get(e), "dev_CIDEr-D") > num(r.get(best), "dev_CIDEr-D")) best = e;
            double lo = Double.MAX_VALUE, hi = 0;
            for (Map<String, String> row : r) {
                lo = Math.min(lo, num(row, "tokens_per_s"));
                hi = Math.max(hi, num(row, "tokens_per_s"));
            }
            sb.append(String.format(Locale.ROOT, "| `%s` | %d | %d | %.3f | ", files.get(i).getFileName(), r.size(), best + 1,
                    num(r.get(best), "dev_BLEU-4")));
            for (int e = 0; e < maxEpochs; e++) {
                if (e >= r.size()) sb.append(" | ");
                else sb.append(String.format(Locale.ROOT, e == best ? "**%.3f** | " : "%.3f | ", num(r.get(e), "dev_CIDEr-D")));
            }
            sb.append(String.format(Locale.ROOT, "%,.0f-%,.0f |%n", lo, hi));
        }
        return sb.toString();
    }

    private static double num(Map<String, String> row, String column) {
        String v = row.get(column);
        if (v == null || v.isBlank()) throw new IllegalArgumentException("column " + column + " missing in " + row);
        return Double.parseDouble(v);
    }

    /** A training-log.csv: a header line, then plain comma-separated numbers (no quoting). */
    static List<Map<String, String>> csv(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        String[] header = lines.get(0).split(",");
        List<Map<String, String>> out = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) continue;
            String[] v = line.split(",", -1);
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < header.length && i < v.length; i++) row.put(header[i], v[i]);
            out.add(row);
        }
        return out;
    }
}
