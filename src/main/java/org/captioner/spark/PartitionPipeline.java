package org.captioner.spark;

import org.apache.spark.sql.Row;
import org.captioner.ImageInput;
import org.captioner.image.ImageBatchLoader;
import org.captioner.util.FaultPoint;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * What both jobs share: a partition's {@code (path, content)} rows as pipeline inputs, streamed (the rows' bytes are
 * not collected), and the pipeline's batches as output rows in input order, produced only as the writer asks for them.
 */
final class PartitionPipeline {
    private PartitionPipeline() {
    }

    /** The partition's rows as inputs named by their path. */
    static Iterator<ImageInput> inputs(Iterator<Row> rows) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public ImageInput next() {
                Row r = rows.next();
                return ImageInput.of(r.getString(0), (byte[]) r.get(1));
            }
        };
    }

    /** The rows of each batch ({@code toRows}: one row per input, in order), batch after batch. */
    static <B> Iterator<Row> rows(ImageBatchLoader.BatchStream<B> batches, Function<B, List<Row>> toRows) {
        return new Iterator<>() {
            private final Deque<Row> ready = new ArrayDeque<>();
            private long done;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && batches.hasNext()) {
                    if (done > 0) FaultPoint.at("spark.partition-batch", done);      // after the writer took a batch's rows
                    ready.addAll(toRows.apply(batches.next()));
                    done++;
                }
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                return ready.poll();
            }
        };
    }
}
