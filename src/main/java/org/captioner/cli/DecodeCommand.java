package org.captioner.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.data.CaptionDataset;
import org.captioner.data.ImageCaptions;
import org.captioner.train.BatchBuilder;
import org.captioner.train.FeatureGrids;
import org.captioner.decode.DecodeOptions;
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
                "Writes JSONL {\"image\", \"caption\", \"score\"} that 'evaluate' reads; prints decoding speed."})
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
    @Option(names = "--beam", defaultValue = "3") int beam;
    @Option(names = "--batch", defaultValue = "100", description = "Images decoded together.") int batch;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Options.positive(spec, "--beam", beam);
        Options.positive(spec, "--batch", batch);
        NativeSetup.init();
        ModelBundle m = ModelBundle.load(model);
        ObjectMapper json = new ObjectMapper();
        try (FeatureSet fs = new FeatureSet(features)) {
            if (!fs.meta().weightsSha256().equals(m.encoderWeightsSha256())) {
                throw new IllegalArgumentException("features in " + features + " come from other encoder weights than the model was trained on ("
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
            boolean attention = m.config().type() == org.captioner.model.DecoderType.ATTENTION;
            BatchBuilder features = new BatchBuilder(fs.allVectors(), attention ? new FeatureGrids(fs, rows) : null);
            DecodeOptions opts = DecodeOptions.beam(beam).withMaxLength(m.config().maxLength());
            long t0 = System.nanoTime();
            List<Hypothesis> best = features.caption(m.decoder(), rows, opts, batch);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < rows.length; i++) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("image", names.get(i));
                row.put("caption", String.join(" ", m.vocabulary().decode(best.get(i).tokens())));
                row.put("score", best.get(i).logProb());
                sb.append(json.writeValueAsString(row)).append('\n');
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            AtomicFiles.writeString(out, sb.toString());
            System.err.printf("decoded %d images with beam %d in %.1f s (%.1f ms per image, batches of %d) -> %s%n",
                    names.size(), beam, secs, 1000 * secs / names.size(), batch, out);
        }
        return Main.EXIT_OK;
    }
}
