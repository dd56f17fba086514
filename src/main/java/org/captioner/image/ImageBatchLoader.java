package org.captioner.image;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
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
 * Decodes and preprocesses images on background threads while the caller runs the CNN on the previous
 * batch, and hands out batches in input order. Failed images are reported with their reason and left out
 * of the tensor; they never stop the stream. At most {@code lookahead} batches are in memory at once, so
 * memory stays flat however many files there are.
 */
public final class ImageBatchLoader implements AutoCloseable {

    /** One input file's outcome. */
    public record Item(int index, Path file, float[] pixels, String error) {
        public boolean ok() {
            return error == null;
        }
    }

    /**
     * A batch in input order.
     *
     * @param items  every file of the batch, failed ones included
     * @param images [nOk, 3, size, size] tensor of the successful items in order, or null when none succeeded
     */
    public record Batch(List<Item> items, INDArray images) {
    }

    private final ImageDecoder decoder;
    private final ImagePreprocessor preprocessor;
    private final ExecutorService pool;
    private final int lookahead;

    public ImageBatchLoader(ImageDecoder decoder, ImagePreprocessor preprocessor, int threads, int lookaheadBatches) {
        this.decoder = decoder;
        this.preprocessor = preprocessor;
        this.pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "image-decode");
            t.setDaemon(true);
            return t;
        });
        this.lookahead = Math.max(1, lookaheadBatches);
    }

    /** Decodes one file to preprocessed pixels; errors become the item's reason. */
    public Item load(int index, Path file) {
        return item(index, file, () -> decoder.decode(file));
    }

    /** Decodes one image held in memory (e.g. a Spark row's bytes); {@code file} is null in the item. */
    public Item load(int index, byte[] bytes) {
        return item(index, null, () -> decoder.decode(bytes));
    }

    @FunctionalInterface
    private interface Decoding {
        java.awt.image.BufferedImage decode() throws ImageLoadException;
    }

    /** One place that turns a decoding into an item: pixels, or the reason it failed. */
    private Item item(int index, Path file, Decoding decoding) {
        try {
            return new Item(index, file, preprocessor.toChw(decoding.decode()), null);
        } catch (ImageLoadException e) {
            return new Item(index, file, null, e.getMessage());
        } catch (RuntimeException | OutOfMemoryError e) {
            return new Item(index, file, null, "cannot decode: " + e);
        }
    }

    public Iterator<Batch> batches(List<Path> files, int batchSize) {
        return batches(files.iterator(), batchSize, this::load);
    }

    /** How an input becomes an item: {@code load(index, input)}, run on the decoding threads. */
    @FunctionalInterface
    public interface ItemLoader<T> {
        Item load(int index, T input);
    }

    /**
     * Batches of any inputs in order, read from {@code inputs} only as far as the look-ahead needs (a Spark
     * partition's rows stream through without being collected); items' indices count from 0.
     */
    public <T> Iterator<Batch> batches(Iterator<T> inputs, int batchSize, ItemLoader<T> loader) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1");
        return new Iterator<>() {
            private final Deque<Future<Item>> pending = new ArrayDeque<>();
            private int submitted = 0;

            private void fill() {
                while (inputs.hasNext() && pending.size() < (long) batchSize * (lookahead + 1)) {
                    final int i = submitted++;
                    final T input = inputs.next();
                    pending.add(pool.submit(() -> loader.load(i, input)));
                }
            }

            @Override
            public boolean hasNext() {
                fill();
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
                return new Batch(items, stack(items));
            }
        };
    }

    private INDArray stack(List<Item> items) {
        int n = (int) items.stream().filter(Item::ok).count();
        if (n == 0) return null;
        int len = preprocessor.length(), size = preprocessor.size();
        float[] all = new float[n * len];
        int k = 0;
        for (Item it : items) {
            if (it.ok()) System.arraycopy(it.pixels(), 0, all, (k++) * len, len);
        }
        return Nd4j.create(all, new long[] {n, 3, size, size}, 'c');
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
