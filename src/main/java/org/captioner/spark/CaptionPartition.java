package org.captioner.spark;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.captioner.Caption;
import org.captioner.CaptionJson;
import org.captioner.Captioner;
import org.captioner.image.ImageBatchLoader;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Captions one partition of {@code (path, content)} rows: the CLI's pipeline (decode on background threads, batches
 * of {@code --batch}, {@link Captioner#captionTensor}) over the partition's rows as they stream in, one output row
 * per input row in input order; a file that cannot be decoded is a row with {@code error}, never a failed task.
 */
final class CaptionPartition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    /** image, caption, score, nbest, [attention], error: the CLI's JSONL fields as columns. */
    static StructType schema(boolean attention) {
        StructType nbest = new StructType().add("caption", DataTypes.StringType).add("score", DataTypes.DoubleType);
        StructType s = new StructType()
                .add("image", DataTypes.StringType, false)
                .add("caption", DataTypes.StringType)
                .add("score", DataTypes.DoubleType)
                .add("nbest", DataTypes.createArrayType(nbest));
        if (attention) {
            s = s.add("attention", new StructType()
                    .add("words", DataTypes.createArrayType(DataTypes.StringType))
                    .add("grid", DataTypes.createArrayType(DataTypes.IntegerType))      // rows, cols of the row-major maps
                    .add("peak_cells", DataTypes.createArrayType(DataTypes.IntegerType)) // per word its largest weight's cell
                    .add("maps", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType))));
        }
        return s.add("error", DataTypes.StringType);
    }

    private final JobSettings settings;

    CaptionPartition(JobSettings settings) {
        this.settings = settings;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) throws Exception {
        Captioner captioner = ExecutorResources.captioner(settings);
        ImageBatchLoader loader = new ImageBatchLoader(captioner.imageDecoder(), captioner.preprocessor(), settings.decodeThreads(), 2);
        return PartitionPipeline.run(input, loader, settings, (b, names) -> {
            List<Caption> caps = b.images() == null ? List.of() : captioner.captionTensor(b.images());
            List<Row> rows = new ArrayList<>();
            int k = 0;
            for (ImageBatchLoader.Item item : b.items()) {
                String image = names.get(item.index());
                rows.add(item.ok() ? row(image, caps.get(k++)) : errorRow(image, item.error()));
            }
            return rows;
        });
    }

    private Row row(String image, Caption c) {
        Row[] nbest = new Row[c.nbest().size()];
        for (int i = 0; i < nbest.length; i++) nbest[i] = RowFactory.create(c.nbest().get(i).text(), c.nbest().get(i).score());
        if (!settings.attention()) return RowFactory.create(image, c.text(), c.score(), nbest, null);
        Row att = null;
        if (!c.attention().isEmpty()) {
            // the CLI's JSON attention object as a struct: the same words, grid shape, peak cells and maps
            String[] words = CaptionJson.attentionWords(c).toArray(new String[0]);
            int[] grid = CaptionJson.attentionGrid(c.attention().get(0).length);
            att = RowFactory.create(words, grid, CaptionJson.peakCells(c), c.attention().toArray(new float[0][]));
        }
        return RowFactory.create(image, c.text(), c.score(), nbest, att, null);
    }

    private Row errorRow(String image, String error) {
        return settings.attention() ? RowFactory.create(image, null, null, null, null, error) : RowFactory.create(image, null, null, null, error);
    }
}
