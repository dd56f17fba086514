package org.captioner.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.captioner.encoder.EncoderType;
import org.captioner.features.FeatureExtractor;
import org.captioner.features.NpyWriter;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code spark features-folder}: a features job's rows -> the features folder layout of {@link FeatureExtractor}. */
final class FeatureFolders {
    private static final ObjectMapper JSON = new ObjectMapper();

    private FeatureFolders() {
    }

    static int write(SparkSession spark, String input, Path to, String root, PrintWriter err) throws IOException {
        org.apache.hadoop.fs.Path metaPath = new org.apache.hadoop.fs.Path(input, SparkJobs.FeaturesFolder.META);
        FileSystem fs = metaPath.getFileSystem(spark.sparkContext().hadoopConfiguration());
        if (!fs.exists(metaPath)) throw new IOException(input + " is not the output of 'spark features' (no " + SparkJobs.FeaturesFolder.META + ")");
        JsonNode meta;
        try (InputStream in = fs.open(metaPath)) {
            meta = JSON.readTree(in);
        }
        EncoderType type = EncoderType.parse(meta.path("encoder").asText());
        String grid = meta.path("grid").asText();
        Dataset<Row> rows = spark.read().format(meta.path("output_format").asText("parquet")).load(input).orderBy("image");
        boolean withGrid = !grid.equals("none");
        NpyWriter.Dtype gridDtype = grid.equals("float32") ? NpyWriter.Dtype.FLOAT32 : NpyWriter.Dtype.FLOAT16;
        Files.createDirectories(to);
        int written = 0, failed = 0;
        Set<String> seen = new HashSet<>();
        try (NpyWriter vec = NpyWriter.open(to.resolve(FeatureExtractor.VECTORS), NpyWriter.Dtype.FLOAT32, new long[] {type.vectorSize}, 0);
             NpyWriter gr = withGrid ? NpyWriter.open(to.resolve(FeatureExtractor.GRID), gridDtype, new long[] {type.gridCells(), type.gridChannels}, 0) : null;
             BufferedWriter names = Files.newBufferedWriter(to.resolve(FeatureExtractor.NAMES), StandardCharsets.UTF_8);
             BufferedWriter errors = Files.newBufferedWriter(to.resolve(FeatureExtractor.ERRORS), StandardCharsets.UTF_8)) {
            Iterator<Row> it = rows.toLocalIterator();                   // one partition at a time on the driver
            while (it.hasNext()) {
                Row r = it.next();
                String name = name(r.getString(r.fieldIndex("image")), root);
                if (!seen.add(name)) throw new IOException("two images are named " + name + "; pass --root to keep their folders in the names");
                String error = r.isNullAt(r.fieldIndex("error")) ? null : r.getString(r.fieldIndex("error"));
                if (error != null) {
                    errors.write(JSON.writeValueAsString(Map.of("image", name, "error", error)));
                    errors.newLine();
                    failed++;
                    continue;
                }
                vec.append(floats(r.getList(r.fieldIndex("vector"))));
                if (withGrid) {
                    Object g = r.get(r.fieldIndex("grid"));
                    gr.append(g instanceof byte[] b ? FeaturesPartition.unhalf(b) : floats(r.getList(r.fieldIndex("grid"))));
                }
                names.write(name);
                names.newLine();
                written++;
            }
        }
        FeatureExtractor.writeMeta(to, type, meta.path("weights_sha256").asText(), meta.path("weights_source").asText() + " (spark features " + input + ")",
                gridDtype, written);
        if (!withGrid) Files.deleteIfExists(to.resolve(FeatureExtractor.GRID));
        err.printf("features-folder: %d images, %d errors -> %s%n", written, failed, to);
        err.flush();
        return failed > 0 ? org.captioner.cli.Main.EXIT_PARTIAL : org.captioner.cli.Main.EXIT_OK;
    }

    static String name(String image, String root) {
        if (root != null) {
            String r = root.endsWith("/") ? root : root + "/";
            if (image.startsWith(r)) return image.substring(r.length());
            return image;
        }
        return image.substring(image.lastIndexOf('/') + 1);
    }

    private static float[] floats(List<Object> xs) {
        float[] out = new float[xs.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) xs.get(i)).floatValue();
        return out;
    }
}
