package org.captioner.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.captioner.features.NpyWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A tiny synthetic captioning data set for fast training tests: N "images" whose feature vectors encode one of
 * three scenes, each scene with its own captions, written as a features folder plus a TSV of captions.
 */
public final class TinyData {
    public static final String[][] SCENES = {
            {"a dog runs on the grass", "a brown dog running on grass", "the dog runs in a field"},
            {"a man rides a red bike", "a man on a bike", "a person riding a red bicycle"},
            {"two children play in the water", "kids playing in water", "two kids splash in the water"}};
    public static final int DIM = 32, SIDE = 2, CHANNELS = 8;

    private TinyData() {
    }

    /** Writes dir/features (vectors + grids) and dir/captions.tsv for n images; returns dir. */
    public static Path write(Path dir, int n, long seed) throws IOException {
        Path feat = Files.createDirectories(dir.resolve("features"));
        Random r = new Random(seed);
        StringBuilder names = new StringBuilder(), tsv = new StringBuilder();
        try (NpyWriter v = NpyWriter.open(feat.resolve("vectors.npy"), NpyWriter.Dtype.FLOAT32, new long[] {DIM}, 0);
             NpyWriter g = NpyWriter.open(feat.resolve("grid.npy"), NpyWriter.Dtype.FLOAT16, new long[] {SIDE * SIDE, CHANNELS}, 0)) {
            for (int i = 0; i < n; i++) {
                int scene = i % SCENES.length;
                float[] vec = new float[DIM];
                for (int d = 0; d < DIM; d++) vec[d] = (float) (0.3 * r.nextGaussian() + (d % SCENES.length == scene ? 2 : 0));
                float[] grid = new float[SIDE * SIDE * CHANNELS];
                for (int c = 0; c < SIDE * SIDE; c++) for (int ch = 0; ch < CHANNELS; ch++) {
                    grid[c * CHANNELS + ch] = (float) (0.3 * r.nextGaussian() + (c == scene && ch % 2 == 0 ? 2 : 0));
                }
                v.append(vec);
                g.append(grid);
                String name = String.format("img%03d.jpg", i);
                names.append(name).append('\n');
                for (String cap : SCENES[scene]) tsv.append(name).append('\t').append(cap).append('\n');
            }
        }
        Files.writeString(feat.resolve("names.txt"), names);
        ObjectMapper m = new ObjectMapper();
        ObjectNode meta = m.createObjectNode();
        meta.put("format", "captioner-features/1");
        meta.put("encoder", "squeezenet");
        meta.put("weights_sha256", "tiny-fixture");
        meta.put("vector_dim", DIM);
        meta.put("grid_side", SIDE);
        meta.put("grid_channels", CHANNELS);
        meta.put("grid_dtype", "float16");
        meta.put("images", n);
        Files.writeString(feat.resolve("meta.json"), m.writeValueAsString(meta));
        Files.writeString(dir.resolve("captions.tsv"), tsv);
        return dir;
    }
}
