package org.captioner.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.data.CaptionDataset;
import org.captioner.data.ImageCaptions;
import org.captioner.decode.CaptionSearch;
import org.captioner.decode.DecodeOptions;
import org.captioner.decode.Hypothesis;
import org.captioner.encoder.NativeSetup;
import org.captioner.features.FeatureSet;
import org.captioner.model.ModelBundle;
import org.captioner.util.AtomicFiles;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
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
            float[][] vectors = fs.allVectors();
            CaptionSearch search = new CaptionSearch(m.decoder());
            DecodeOptions opts = DecodeOptions.beam(beam).withMaxLength(m.config().maxLength());
            StringBuilder sb = new StringBuilder();
            long t0 = System.nanoTime();
            for (int s = 0; s < names.size(); s += batch) {
                List<String> chunk = names.subList(s, Math.min(names.size(), s + batch));
                int d = vectors[0].length;
                float[] v = new float[chunk.size() * d];
                for (int i = 0; i < chunk.size(); i++) System.arraycopy(vectors[fs.row(chunk.get(i))], 0, v, i * d, d);
                INDArray grids = null;
                if (m.config().type() == org.captioner.model.DecoderType.ATTENTION) {
                    float[] g = new float[chunk.size() * m.config().gridCells() * m.config().gridChannels()];
                    for (int i = 0; i < chunk.size(); i++) {
                        float[] gi = fs.grid(fs.row(chunk.get(i)));
                        System.arraycopy(gi, 0, g, i * gi.length, gi.length);
                    }
                    grids = Nd4j.create(g, new long[] {chunk.size(), m.config().gridCells(), m.config().gridChannels()}, 'c');
                }
                List<List<Hypothesis>> hyps = search.generate(Nd4j.create(v, new long[] {chunk.size(), d}, 'c'), grids, opts);
                for (int i = 0; i < chunk.size(); i++) {
                    Hypothesis h = hyps.get(i).get(0);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("image", chunk.get(i));
                    row.put("caption", String.join(" ", m.vocabulary().decode(h.tokens())));
                    row.put("score", h.logProb());
                    sb.append(json.writeValueAsString(row)).append('\n');
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            AtomicFiles.writeString(out, sb.toString());
            System.err.printf("decoded %d images with beam %d in %.1f s (%.1f ms per image, batches of %d) -> %s%n",
                    names.size(), beam, secs, 1000 * secs / names.size(), batch, out);
        }
        return Main.EXIT_OK;
    }
}
