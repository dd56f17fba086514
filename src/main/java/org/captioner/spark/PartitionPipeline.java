package org.captioner.spark;

import org.apache.spark.sql.Row;
import org.captioner.image.ImageBatchLoader;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The part both jobs share: a partition's {@code (path, content)} rows through {@link ImageBatchLoader} (decoding on
 * background threads, at most a few batches ahead, so the partition streams), one network call per batch, and the
 * output rows in input order, produced only as the writer asks for them.
 */
final class PartitionPipeline {
    /** Turns one decoded batch into output rows, one per item, in order; {@code names.get(item.index())} is the path. */
    @FunctionalInterface
    interface BatchToRows {
        List<Row> rows(ImageBatchLoader.Batch batch, List<String> names);
    }

    private PartitionPipeline() {
    }

    static Iterator<Row> run(Iterator<Row> input, ImageBatchLoader loader, JobSettings settings, BatchToRows toRows) {
        List<String> names = new ArrayList<>();                 // item index -> path (the rows' bytes are not kept)
        Iterator<ImageBatchLoader.Batch> batches = loader.batches(new Iterator<byte[]>() {
            @Override
            public boolean hasNext() {
                return input.hasNext();
            }

            @Override
            public byte[] next() {
                Row r = input.next();
                names.add(r.getString(0));
                return (byte[]) r.get(1);
            }
        }, settings.batch(), loader::load);
        return new Iterator<>() {
            private final Deque<Row> ready = new ArrayDeque<>();
            private boolean first = true;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && batches.hasNext()) {
                    if (!first) FaultInjection.afterFirstBatch(settings.failOnce());
                    first = false;
                    ready.addAll(toRows.rows(batches.next(), names));
                }
                if (ready.isEmpty()) loader.close();
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
