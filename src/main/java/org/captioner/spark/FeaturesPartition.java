package org.captioner.spark;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructType;
import org.captioner.encoder.ImageEncoder;
import org.captioner.features.HalfFloat;
import org.captioner.image.ImageBatchLoader;
import org.captioner.pipeline.EncodingPipeline;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Encodes one partition of {@code (path, content)} rows into {@code image, vector, grid, error}: the features
 * command's {@link EncodingPipeline} with rows instead of .npy files.
 * {@code grid} is the feature grid [cells, channels] row-major: float16 little-endian bytes (as grid.npy's default),
 * or an array of float32; absent with {@code --grid none}.
 */
final class FeaturesPartition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    /** The schema; the encoder and its weights' SHA-256 ride in the {@code vector} column's metadata. */
    static StructType schema(String gridFormat, String encoder, String weightsSha256) {
        Metadata meta = new MetadataBuilder().putString("captioner_encoder", encoder)
                .putString("captioner_weights_sha256", weightsSha256).build();
        StructType s = new StructType()
                .add("image", DataTypes.StringType, false)
                .add("vector", DataTypes.createArrayType(DataTypes.FloatType, false), true, meta);
        switch (gridFormat) {
            case "float16" -> s = s.add("grid", DataTypes.BinaryType);
            case "float32" -> s = s.add("grid", DataTypes.createArrayType(DataTypes.FloatType, false));
            default -> { }
        }
        return s.add("error", DataTypes.StringType);
    }

    private final JobSettings settings;

    FeaturesPartition(JobSettings settings) {
        this.settings = settings;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) throws Exception {
        ImageEncoder encoder = ExecutorResources.encoder(settings);
        boolean withGrid = !settings.gridFormat().equals("none");
        int d = encoder.type().vectorSize, g = encoder.type().gridCells() * encoder.type().gridChannels;
        var batches = EncodingPipeline.encode(encoder, PartitionPipeline.inputs(input), settings.batch(), settings.decodeThreads(), withGrid);
        return PartitionPipeline.rows(batches, b -> {
            List<Row> rows = new ArrayList<>();
            int k = 0;
            for (ImageBatchLoader.Item item : b.items()) {
                String image = item.name();
                if (!item.ok()) {
                    rows.add(withGrid ? RowFactory.create(image, null, null, item.error()) : RowFactory.create(image, null, item.error()));
                    continue;
                }
                float[] v = Arrays.copyOfRange(b.vectors(), k * d, (k + 1) * d);
                if (!withGrid) rows.add(RowFactory.create(image, v, null));
                else if (settings.gridFormat().equals("float16")) rows.add(RowFactory.create(image, v, half(b.grids(), k * g, g), null));
                else rows.add(RowFactory.create(image, v, Arrays.copyOfRange(b.grids(), k * g, (k + 1) * g), null));
                k++;
            }
            return rows;
        });
    }

    /** float16 little-endian bytes of {@code n} values from {@code off}: grid.npy's storage, half the size of float32. */
    static byte[] half(float[] x, int off, int n) {
        ByteBuffer bb = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) bb.putShort(HalfFloat.fromFloat(x[off + i]));
        return bb.array();
    }

    static float[] unhalf(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.length / 2];
        for (int i = 0; i < out.length; i++) out[i] = HalfFloat.toFloat(bb.getShort());
        return out;
    }
}
