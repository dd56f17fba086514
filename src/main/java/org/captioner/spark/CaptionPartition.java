package org.captioner.spark;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.captioner.CaptionRecord;
import org.captioner.CaptionRecord.Field;
import org.captioner.pipeline.CaptionPipeline;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Captions one partition of {@code (path, content)} rows through the {@link CaptionPipeline} (the CLI's, with its
 * decoding threads and batches), one output row per input row in input order; a file that cannot be decoded is a row
 * with {@code error}, never a failed task. The schema and the rows are the {@link CaptionRecord}'s fields as columns.
 */
final class CaptionPartition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    /** The record's fields as columns: image, caption, score, nbest, [attention], error. */
    static List<Field> columns(boolean attention) {
        return java.util.Arrays.stream(Field.values()).filter(f -> attention || f != Field.ATTENTION).toList();
    }

    static StructType schema(boolean attention) {
        StructType s = new StructType();
        for (Field f : columns(attention)) s = s.add(f.key(), type(f), f != Field.IMAGE);
        return s;
    }

    /** Each field's Spark type, from what {@link CaptionRecord#value} holds. */
    private static DataType type(Field f) {
        return switch (f) {
            case IMAGE, CAPTION, ERROR -> DataTypes.StringType;
            case SCORE -> DataTypes.DoubleType;
            case NBEST -> DataTypes.createArrayType(new StructType().add("caption", DataTypes.StringType).add("score", DataTypes.DoubleType));
            case ATTENTION -> new StructType()
                    .add("words", DataTypes.createArrayType(DataTypes.StringType))
                    .add("grid", DataTypes.createArrayType(DataTypes.IntegerType))      // rows, cols of the row-major maps
                    .add("peak_cells", DataTypes.createArrayType(DataTypes.IntegerType)) // per word its largest weight's cell
                    .add("maps", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType)));
        };
    }

    static Row row(CaptionRecord r, boolean attention) {
        List<Field> cols = columns(attention);
        Object[] values = new Object[cols.size()];
        for (int i = 0; i < values.length; i++) values[i] = spark(r.value(cols.get(i)), type(cols.get(i)));
        return RowFactory.create(values);
    }

    /** A value of the record's JSON model (strings, numbers, lists, arrays, maps) as Spark holds it for {@code t}. */
    private static Object spark(Object v, DataType t) {
        if (v == null) return null;
        if (t instanceof StructType st) {
            Map<?, ?> m = (Map<?, ?>) v;
            Object[] fields = new Object[st.fields().length];
            for (int i = 0; i < fields.length; i++) {
                StructField sf = st.fields()[i];
                fields[i] = spark(m.get(sf.name()), sf.dataType());
            }
            return RowFactory.create(fields);
        }
        if (t instanceof ArrayType at) {
            List<Object> items = new ArrayList<>();
            if (v instanceof int[] a) for (int x : a) items.add(x);
            else if (v instanceof float[] a) for (float x : a) items.add(x);
            else for (Object x : (Iterable<?>) v) items.add(x);
            Object[] out = new Object[items.size()];
            for (int i = 0; i < out.length; i++) out[i] = spark(items.get(i), at.elementType());
            return out;
        }
        if (t == DataTypes.IntegerType) return ((Number) v).intValue();
        if (t == DataTypes.FloatType) return ((Number) v).floatValue();
        if (t == DataTypes.DoubleType) return ((Number) v).doubleValue();
        return v;
    }

    private final JobSettings settings;

    CaptionPartition(JobSettings settings) {
        this.settings = settings;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) throws Exception {
        CaptionPipeline pipeline = ExecutorResources.pipeline(settings);
        var batches = pipeline.caption(PartitionPipeline.inputs(input), settings.decode(), settings.batch(), settings.decodeThreads(), false);
        return PartitionPipeline.rows(batches, records -> records.stream().map(r -> row(r, settings.attention())).toList());
    }
}
