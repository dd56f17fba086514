package org.captioner.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.data.CaptionDataset;
import org.captioner.data.ImageCaptions;
import org.captioner.train.BatchBuilder;
import org.captioner.train.FeatureRows;
import org.captioner.decode.Hypothesis;
import org.captioner.encoder.NativeSetup;
import org.captioner.features.FeatureSet;
import org.captioner.model.ModelBundle;
import org.captioner.util.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "decode", mixinStandardHelpOptions = true,
        description = {"Caption the images of a features folder with a trained model (no CNN: reads cached features).",
                "Writes the JSONL of 'caption' ({\"image\", \"caption\", \"score\"}) that 'evaluate' reads; prints decoding speed."})
public final class DecodeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model folder.")
    Path model;
    @Option(names = "--features", required = true, description = "Features folder (from 'features').")
    Path features;
    @Option(names = "--captions", description = "Only the images of this captions file (with --split).")
    Path captions;
    @Option(names = "--split", description = "Split of --captions, e.g. dev.")
    String split;
    @Option(names = "--out", required = true, description = "Output JSONL.")
    Path out;
    @picocli.CommandLine.Mixin
    BeamOptions search = new BeamOptions();
    @Option(names = "--batch", defaultValue = "100", description = "Images decoded together.") int batch;
    @Option(names = "--tune-length-alpha", split = ",", paramLabel = "A,B,...", description = {"Decode with each value, score CIDEr-D",
            "against --captions, and record the best in the model as its recommended length normalisation."}) List<Double> tuneAlphas;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** The images of a features folder to decode (all, or one split of a captions file) and their features. */
    record Selection(List<String> names, int[] rows, BatchBuilder features) {
        static Selection of(ModelBundle m, FeatureSet fs, Path dir, Path captions, String split) throws java.io.IOException {
            if (!fs.meta().weightsSha256().equals(m.encoderWeightsSha256())) {
                throw new IllegalArgumentException("features in " + dir + " come from other encoder weights than the model was trained on ("
                        + fs.meta().weightsSha256() + " vs " + m.encoderWeightsSha256() + ")");
            }
            List<String> names = new ArrayList<>();
            if (captions != null) {
                for (ImageCaptions ic : CaptionDataset.load(captions).split(split)) {
                    if (fs.row(ic.file()) >= 0) names.add(ic.file());
                }
            } else {
                names.addAll(fs.names());
            }
            if (names.isEmpty()) throw new IllegalArgumentException("no images to decode");
            int[] rows = names.stream().mapToInt(fs::row).toArray();
            boolean attention = m.config().type().attends();
            return new Selection(names, rows, new BatchBuilder(FeatureRows.vectors(fs, rows), attention ? FeatureRows.grids(fs, rows) : null));
        }
    }

    @Override
    public Integer call() throws Exception {
        search.check(spec);
        int beam = search.beam;
        Double lengthAlpha = search.lengthAlpha;
        Options.positive(spec, "--batch", batch);
        if (tuneAlphas != null) {
            if (captions == null) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--tune-length-alpha needs --captions (and --split)");
            for (double a : tuneAlphas) Options.range(spec, "--tune-length-alpha", a, 0, 2);
        }
        NativeSetup.init();
        ModelBundle m = ModelBundle.load(model);
        ObjectMapper json = new ObjectMapper();
        try (FeatureSet fs = new FeatureSet(features)) {
            Selection sel = Selection.of(m, fs, features, captions, split);
            List<String> names = sel.names();
            int[] rows = sel.rows();
            BatchBuilder features = sel.features();
            org.captioner.decode.CaptionSearch captionSearch = new org.captioner.decode.CaptionSearch(m.decoder(), m.vocabulary());
            List<Hypothesis> best = null;                   // the tuned alpha's captions, reused below
            double alpha = search.resolve(m).lengthAlpha();
            if (tuneAlphas != null) {
                Map<String, ImageCaptions> refs = new LinkedHashMap<>();
                for (ImageCaptions ic : CaptionDataset.load(captions).split(split)) refs.put(ic.file(), ic);
                double bestAlpha = 0, bestCider = -1;
                for (double a : tuneAlphas) {
                    List<Hypothesis> hs = features.caption(captionSearch, rows, search.resolve(m).withLengthAlpha(a), batch);
                    List<String> hyp = new ArrayList<>();
                    List<List<String>> ref = new ArrayList<>();
                    for (int i = 0; i < rows.length; i++) {
                        hyp.add(m.vocabulary().text(hs.get(i).tokens()));
                        ref.add(refs.get(names.get(i)).captions());
                    }
                    var sc = org.captioner.eval.Scores.of(names, hyp, ref);
                    spec.commandLine().getErr().printf("length alpha %.2f: CIDEr-D %.4f BLEU-4 %.4f BLEU-1 %.4f ROUGE-L %.4f%n", a, sc.get("CIDEr-D"), sc.get("BLEU-4"),
                            sc.get("BLEU-1"), sc.get("ROUGE-L"));
                    if (sc.get("CIDEr-D") > bestCider) {
                        bestCider = sc.get("CIDEr-D");
                        bestAlpha = a;
                        best = hs;
                    }
                }
                ModelBundle.recommendLengthAlpha(model, bestAlpha, String.format(java.util.Locale.ROOT,
                        "dev CIDEr-D %.4f with beam %d on %s split %s (%d images), from %s", bestCider, beam, captions.getFileName(), split, rows.length, tuneAlphas));
                spec.commandLine().getErr().printf("recommended length alpha %.2f recorded in %s%n", bestAlpha, model.resolve(ModelBundle.CONFIG));
                spec.commandLine().getErr().flush();
                if (lengthAlpha == null) alpha = bestAlpha;
                else best = null;                               // an explicit --length-alpha wins: decode with it
            }
            long t0 = System.nanoTime();
            boolean reused = best != null;
            if (best == null) {
                best = features.caption(captionSearch, rows, search.resolve(m).withLengthAlpha(alpha), batch);
            }
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < rows.length; i++) {
                Hypothesis h = best.get(i);
                var c = org.captioner.Caption.of(m.vocabulary().decode(h.tokens()), h.logProb(), List.of(), List.of());
                sb.append(json.writeValueAsString(org.captioner.CaptionRecord.of(names.get(i), c).json(true, false, false))).append('\n');
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            AtomicFiles.writeString(out, sb.toString());
            if (reused) System.err.printf("wrote the captions of length alpha %.2f -> %s%n", alpha, out);
            else System.err.printf("decoded %d images with beam %d in %.1f s (%.1f ms per image, batches of %d) -> %s%n",
                    names.size(), beam, secs, 1000 * secs / names.size(), batch, out);
        }
        return Main.EXIT_OK;
    }
}
