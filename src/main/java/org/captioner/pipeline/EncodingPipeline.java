package org.captioner.pipeline;

import org.captioner.ImageInput;
import org.captioner.encoder.EncodedBatch;
import org.captioner.encoder.ImageEncoder;
import org.captioner.image.ImageBatchLoader;
import org.captioner.image.ImageDecoder;
import org.captioner.util.NativeMemory;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The one road from images to features, under {@code features}, the Spark features job and {@code bench encoder}:
 * the same decoding stage as {@link CaptionPipeline}, then the encoder, batch by batch, in input order.
 */
public final class EncodingPipeline {
    /**
     * One batch encoded.
     *
     * @param items   every input of the batch in order, failed ones with their reason
     * @param vectors the successful items' image vectors, [ok, D] row-major
     * @param grids   their feature grids, [ok, cells, C] row-major (null when not asked for)
     */
    public record Encoded(List<ImageBatchLoader.Item> items, float[] vectors, float[] grids) {
    }

    private EncodingPipeline() {
    }

    public static ImageBatchLoader.BatchStream<Encoded> encode(ImageEncoder encoder, Iterator<ImageInput> inputs, int batch, int threads,
                                                              boolean withGrids) {
        ImageBatchLoader.BatchStream<ImageBatchLoader.Batch> batches =
                new ImageBatchLoader(new ImageDecoder(), encoder.type().preprocessor(), threads, 2).batches(inputs, batch);
        NativeMemory memory = new NativeMemory(256);
        int size = encoder.type().inputSize;
        return new ImageBatchLoader.BatchStream<>() {
            @Override
            public boolean hasNext() {
                return batches.hasNext();
            }

            @Override
            public Encoded next() {
                if (!hasNext()) throw new NoSuchElementException();
                ImageBatchLoader.Batch b = batches.next();
                List<float[]> px = b.pixels();
                if (px.isEmpty()) return new Encoded(b.items(), new float[0], withGrids ? new float[0] : null);
                EncodedBatch enc = encoder.encode(ImageBatchLoader.stack(px, size));
                float[] v = enc.vectors().castTo(DataType.FLOAT).dup('c').data().asFloat();
                float[] g = withGrids ? enc.grid().castTo(DataType.FLOAT).dup('c').data().asFloat() : null;
                memory.processed(b.items().size());
                return new Encoded(b.items(), v, g);
            }

            @Override
            public void close() {
                batches.close();
            }
        };
    }
}
