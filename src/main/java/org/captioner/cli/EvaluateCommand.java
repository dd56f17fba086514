package org.captioner.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.captioner.data.CaptionDataset;
import org.captioner.eval.CaptionResults;
import org.captioner.eval.Evaluation;
import org.captioner.eval.Scores;
import org.captioner.util.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Score captions against human references with the coco-caption metrics",
                "(PTB tokenizer; BLEU-1..4, ROUGE-L, CIDEr-D). METEOR and SPICE are not available (docs/cli.md says why)."})
public final class EvaluateCommand implements Callable<Integer> {
    @Option(names = "--captions", paramLabel = "FILE", description = "Human references: COCO captions JSON, Karpathy split JSON, Flickr8k token file, or TSV/CSV (required).")
    Path refs;

    @Option(names = "--refs", hidden = true, description = "Former name of --captions.")
    void setRefs(Path p) {
        refs = p;
    }

    @Option(names = "--results", required = true, description = "Captions to score: COCO results JSON, caption JSONL, or TSV/CSV image,caption.")
    Path results;

    @Option(names = "--split", description = "Only this split of the references (train, val, test, dev, restval).")
    String split;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Option(names = "--per-image", paramLabel = "FILE", description = "Write per-image scores (JSONL) here, worst CIDEr-D first.")
    Path perImage;

    @Option(names = "--ignore-unknown", description = "Score the matched images even if some results name images the references lack.")
    boolean ignoreUnknown;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        Options.required(spec, "--captions", refs);
        CaptionDataset ds = CaptionDataset.load(refs);
        CaptionResults res = CaptionResults.read(results);
        Evaluation.Report r = Evaluation.run(ds, split, res, ignoreUnknown);
        double secs = (System.nanoTime() - t0) / 1e9;
        Scores s = r.scores();
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper m = new ObjectMapper();
        if (json) {
            ObjectNode n = m.createObjectNode();
            for (String k : Scores.METRICS) n.put(k, s.get(k));
            n.put("images", s.images());
            n.put("references_without_result", r.referencesWithoutResult());
            n.put("results_without_references", r.unknownResults().size());
            n.put("error_lines", r.errorLines());
            out.println(m.writeValueAsString(n));
        } else {
            out.printf("scored %d images (%s%s)%n", s.images(), refs.getFileName(), split == null ? "" : ", split " + split);
            for (String k : Scores.METRICS) out.printf("  %-8s %.4f%n", k, s.get(k));
            out.printf("  METEOR   n/a (reference jar not on Maven Central)%n  SPICE    n/a (reference jar not on Maven Central)%n");
        }
        out.flush();
        var err = spec.commandLine().getErr();
        if (r.referencesWithoutResult() > 0) err.printf("note: %d of %d reference images have no result (not scored)%n", r.referencesWithoutResult(), r.referenceImages());
        if (!r.unknownResults().isEmpty()) err.printf("note: %d results name images not in the references (ignored), e.g. %s%n",
                r.unknownResults().size(), r.unknownResults().subList(0, Math.min(5, r.unknownResults().size())));
        if (r.errorLines() > 0) err.printf("note: %d result lines were errors (images that failed to caption)%n", r.errorLines());
        err.printf("evaluated in %.2f s%n", secs);
        err.flush();
        if (perImage != null) writePerImage(m, r);
        return Main.EXIT_OK;
    }

    private void writePerImage(ObjectMapper m, Evaluation.Report r) throws Exception {
        Scores s = r.scores();
        Integer[] order = new Integer[s.images()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        double[] cider = s.perImage().get("CIDEr-D");
        java.util.Arrays.sort(order, (a, b) -> Double.compare(cider[a], cider[b]));
        StringBuilder sb = new StringBuilder();
        for (int i : order) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("image", s.imageKeys().get(i));
            row.put("caption", r.hypotheses().get(i));
            for (String k : Scores.METRICS) row.put(k, s.perImage().get(k)[i]);
            row.put("references", r.references().get(i));
            sb.append(m.writeValueAsString(row)).append('\n');
        }
        AtomicFiles.writeString(perImage, sb.toString());
    }
}
