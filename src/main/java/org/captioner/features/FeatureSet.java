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
            // also by bare file name and COCO id name (see row): data sets that name images otherwise still match
            String base = bare(names.get(i));
            rowOf.putIfAbsent(base, i);
            rowOf.putIfAbsent(cocoName(base), i);
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

    /**
     * Row of an image, or -1 when it has no features: the one rule every split reader (training, {@code decode},
     * {@code bench attention}) matches images by. A name matches as given, else by its bare file name, both ways: a
     * Karpathy path ({@code val2014/COCO_val2014_....jpg}) finds features stored under the bare name (as
     * {@code features} stores a folder's images), and a bare name finds features stored with a folder. COCO 2014 names
     * also match the 2017 files of the same image by their id ({@code COCO_val2014_000000391895.jpg} and
     * {@code 000000391895.jpg}), so Karpathy's split file works over a COCO 2017 layout.
     */
    public int row(String name) {
        Integer r = rowOf.get(name);
        if (r == null) r = rowOf.get(bare(name));
        if (r == null) r = rowOf.get(cocoName(bare(name)));
        return r != null ? r : -1;
    }

    private static String bare(String name) {
        return name.substring(name.lastIndexOf('/') + 1);
    }

    private static final java.util.regex.Pattern COCO_2014 = java.util.regex.Pattern.compile("COCO_[a-z]+\\d{4}_(\\d{12}\\.\\w+)");

    /** A COCO 2014 file name as its 2017 name (the 12-digit id); other names as they are. */
    static String cocoName(String bare) {
        var m = COCO_2014.matcher(bare);
        return m.matches() ? m.group(1) : bare;
    }

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
