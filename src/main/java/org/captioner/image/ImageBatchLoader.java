package org.captioner.image;

import org.captioner.ImageInput;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.image.BufferedImage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The first stage of every pipeline: decodes and preprocesses images on background threads while the caller runs
 * the networks on the previous batch, and hands out batches in input order. A failed image is an item with its
 * reason and no pixels; it never stops the stream. At most {@code lookahead} batches are in memory at once, and the
 * inputs are read only as far as that needs, so memory stays flat however many images there are.
 */
public final class ImageBatchLoader {

    /** One input's outcome: its pixels ([3, S, S] as {@link ImagePreprocessor#toChw}) or why it failed. */
    public record Item(int index, ImageInput input, float[] pixels, String error) {
        public boolean ok() {
            return error == null;
        }

        public String name() {
            return input.name();
        }
    }

    /** A batch of items in input order, failed ones included. */
    public record Batch(List<Item> items) {
        /** The pixels of the successful items, in order. */
        public List<float[]> pixels() {
            return items.stream().filter(Item::ok).map(Item::pixels).toList();
        }
    }

    /** An iterator that holds decoding threads: closed when exhausted, or by the caller when it stops early. */
    public interface BatchStream<T> extends Iterator<T>, AutoCloseable {
        @Override
        void close();
    }

    private final ImageDecoder decoder;
    private final ImagePreprocessor preprocessor;
    private final int threads, lookahead;

    public ImageBatchLoader(ImageDecoder decoder, ImagePreprocessor preprocessor, int threads, int lookaheadBatches) {
        this.decoder = decoder;
        this.preprocessor = preprocessor;
        this.threads = Math.max(1, threads);
        this.lookahead = Math.max(1, lookaheadBatches);
    }

    public ImagePreprocessor preprocessor() {
        return preprocessor;
    }

    /** Decodes one input and preprocesses it for the encoder, on the caller's thread. */
    public float[] prepare(ImageInput in) throws ImageLoadException {
        BufferedImage img = in.file() != null ? decoder.decode(in.file())
                : in.bytes() != null ? decoder.decode(in.bytes()) : ImageDecoder.toRgb(in.image());
        return preprocessor.toChw(img);
    }

    /** One place that turns an input into an item: pixels, or the reason it failed. */
    public Item load(int index, ImageInput in) {
        try {
            return new Item(index, in, prepare(in), null);
        } catch (ImageLoadException e) {
            return new Item(index, in, null, e.getMessage());
        } catch (RuntimeException | OutOfMemoryError e) {
            return new Item(index, in, null, "cannot decode: " + e);
        }
    }

    /** Batches of {@code batchSize} items in input order; items' indices count from 0. */
    public BatchStream<Batch> batches(Iterator<ImageInput> inputs, int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1");
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "image-decode");
            t.setDaemon(true);
            return t;
        });
        return new BatchStream<>() {
            private final Deque<Future<Item>> pending = new ArrayDeque<>();
            private int submitted = 0;

            private void fill() {
                while (!pool.isShutdown() && inputs.hasNext() && pending.size() < (long) batchSize * (lookahead + 1)) {
                    final int i = submitted++;
                    final ImageInput input = inputs.next();
                    pending.add(pool.submit(() -> load(i, input)));
                }
            }

            @Override
            public boolean hasNext() {
                fill();
                if (pending.isEmpty()) close();
                return !pending.isEmpty();
            }

            @Override
            public Batch next() {
                if (!hasNext()) throw new NoSuchElementException();
                List<Item> items = new ArrayList<>(batchSize);
                while (items.size() < batchSize && !pending.isEmpty()) {
                    try {
                        items.add(pending.poll().get());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted", e);
                    } catch (ExecutionException e) {
                        throw new IllegalStateException(e.getCause());
                    }
                    fill();
                }
                return new Batch(items);
            }

            @Override
            public void close() {
                pool.shutdownNow();
            }
        };
    }

    /**
     * Preprocessed images as the encoder's input, [n, 3, size, size]: the one place pixels become a tensor. Written
     * straight into the tensor's native memory: a Java array of the whole batch (9.6 MB at 16 x 224 x 224) would be a
     * humongous allocation each batch, which grew the heap and cost a second copy.
     */
    public static INDArray stack(List<float[]> images, int size) {
        int n = images.size(), len = 3 * size * size;
        INDArray x = Nd4j.createUninitialized(DataType.FLOAT, n, 3, size, size);
        java.nio.FloatBuffer out = x.data().asNioFloat();
        for (float[] px : images) {
            if (px.length != len) throw new IllegalArgumentException("expected a 3 x " + size + " x " + size + " image, got " + px.length + " values");
            out.put(px);
        }
        return x;
    }
}
