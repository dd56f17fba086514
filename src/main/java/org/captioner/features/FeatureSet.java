package org.captioner.features;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A folder written by {@link FeatureExtractor}, opened for reading: name -> row, and row access. */
public final class FeatureSet implements AutoCloseable {
    public record Meta(String encoder, String weightsSha256, int vectorDim, int gridSide, int gridChannels, String gridDtype, int images) {
    }

    private final Path dir;
    private final Meta meta;
    private final List<String> names;
    private final Map<String, Integer> rowOf = new HashMap<>();
    private final NpyReader vectors;
    private final NpyReader grid;

    public FeatureSet(Path dir) throws IOException {
        this.dir = dir;
        if (!Files.isRegularFile(dir.resolve(FeatureExtractor.META))) {
            throw new IOException(dir + " is not a features folder (no meta.json); run './captioner features' first");
        }
        this.meta = readMeta(dir);
        this.names = FeatureExtractor.completeLines(dir.resolve(FeatureExtractor.NAMES));
        this.vectors = new NpyReader(dir.resolve(FeatureExtractor.VECTORS));
        this.grid = Files.exists(dir.resolve(FeatureExtractor.GRID)) ? new NpyReader(dir.resolve(FeatureExtractor.GRID)) : null;
        if (vectors.rows() < names.size()) {
            throw new IOException(dir + ": names.txt lists " + names.size() + " images but vectors.npy has " + vectors.rows() + " rows");
        }
        for (int i = 0; i < names.size(); i++) {
            rowOf.put(names.get(i), i);
            // Also index by bare file name, so data sets that name images without folders still match.
            String base = names.get(i).substring(names.get(i).lastIndexOf('/') + 1);
            rowOf.putIfAbsent(base, i);
        }
    }

    static Meta readMeta(Path dir) throws IOException {
        JsonNode n = new ObjectMapper().readTree(dir.resolve(FeatureExtractor.META).toFile());
        return new Meta(n.path("encoder").asText(), n.path("weights_sha256").asText(), n.path("vector_dim").asInt(),
                n.path("grid_side").asInt(), n.path("grid_channels").asInt(), n.path("grid_dtype").asText(), n.path("images").asInt());
    }

    public Path dir() {
        return dir;
    }

    public Meta meta() {
        return meta;
    }

    public List<String> names() {
        return names;
    }

    /** Row of an image, or -1 when it has no features. */
    public int row(String name) {
        return rowOf.getOrDefault(name, -1);
    }

    /**
     * Every image vector, [rows][D] (Flickr8k: 36 MB; COCO: 630 MB), read a few thousand rows at a time: one read of
     * the whole file would also make the JDK allocate a temporary native buffer of its size, and keep it.
     */
    public float[][] allVectors() throws IOException {
        int n = names.size(), d = (int) vectors.header().rowElems();
        float[][] out = new float[n][d];
        for (int start = 0; start < n; start += VECTOR_ROWS_PER_READ) {
            int count = Math.min(VECTOR_ROWS_PER_READ, n - start);
            float[] flat = vectors.read(start, count);
            for (int i = 0; i < count; i++) System.arraycopy(flat, i * d, out[start + i], 0, d);
        }
        return out;
    }

    private static final int VECTOR_ROWS_PER_READ = 2048;

    public float[] vector(int row) throws IOException {
        return vectors.read(row, 1);
    }

    public float[] grid(int row) throws IOException {
        if (grid == null) throw new IOException(dir + " has no grid.npy");
        return grid.read(row, 1);
    }

    public boolean hasGrid() {
        return grid != null;
    }

    @Override
    public void close() throws IOException {
        vectors.close();
        if (grid != null) grid.close();
    }
}
