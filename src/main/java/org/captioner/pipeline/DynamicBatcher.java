package org.captioner.pipeline;

import org.captioner.Caption;
import org.captioner.decode.DecodeOptions;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Gathers concurrent caption requests into shared network calls, as Triton's dynamic batcher does: a worker thread
 * takes the oldest request, waits up to {@code maxWaitMs} for more (up to {@code maxBatch} images with the same
 * decoding options), and hands them to the pipeline's batch function, {@link CaptionPipeline#caption(List, DecodeOptions)}. Under
 * load, batches fill up and throughput approaches the batch CLI's; alone, a request waits at most {@code maxWaitMs}.
 * The queue is bounded: a full queue refuses new requests at once ({@link RejectedExecutionException}) rather than
 * letting latency grow without limit. Written here because the JDK has the queues but no batching executor, and
 * none of the serving libraries on Maven Central does this for an in-process model.
 */
public final class DynamicBatcher implements AutoCloseable {
    private record Request(float[] chw, DecodeOptions options, CompletableFuture<Caption> result) {
    }

    private final CaptionPipeline pipeline;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final BlockingQueue<Request> queue;
    private final List<Request> held = new ArrayList<>();      // taken from the queue, waiting for a batch of their options
    private final Thread worker;
    private final IntConsumer onBatch;
    private volatile boolean closing;

    /** {@code onBatch}: told each batch's size (for metrics); may be null. */
    public DynamicBatcher(CaptionPipeline pipeline, int maxBatch, long maxWaitMs, int queueCapacity, IntConsumer onBatch) {
        if (maxBatch < 1 || maxBatch > 256) throw new IllegalArgumentException("max batch must be in [1, 256], got " + maxBatch);
        if (maxWaitMs < 0 || maxWaitMs > 10_000) throw new IllegalArgumentException("max wait must be in [0, 10000] ms, got " + maxWaitMs);
        if (queueCapacity < 1) throw new IllegalArgumentException("queue capacity must be >= 1, got " + queueCapacity);
        this.pipeline = pipeline;
        this.maxBatch = maxBatch;
        this.maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.onBatch = onBatch;
        this.worker = new Thread(this::run, "captioner-batcher");
        worker.setDaemon(true);
        worker.start();
    }

    /**
     * Queues one preprocessed image ([3, S, S] as {@link CaptionPipeline#prepare}); the future
     * completes with its caption. Throws {@link RejectedExecutionException} when the queue is full or the batcher closed.
     */
    public CompletableFuture<Caption> submit(float[] chw, DecodeOptions options) {
        int s = pipeline.preprocessor().size();
        if (chw.length != 3 * s * s) throw new IllegalArgumentException("expected a 3 x " + s + " x " + s + " image, got " + chw.length + " values");
        CompletableFuture<Caption> f = new CompletableFuture<>();
        if (closing || !queue.offer(new Request(chw, options, f))) {
            throw new RejectedExecutionException(closing ? "the captioner is shutting down" : "the caption queue is full (" + queueDepth() + " waiting)");
        }
        return f;
    }

    /** Requests waiting (not yet in a network call). */
    public int queueDepth() {
        synchronized (held) {
            return queue.size() + held.size();
        }
    }

    private void run() {
        while (true) {
            List<Request> batch;
            try {
                batch = nextBatch();
            } catch (InterruptedException e) {
                break;
            }
            if (batch == null) break;
            if (batch.isEmpty()) continue;
            caption(batch);
        }
        // closed: whatever is left is refused, never dropped silently
        List<Request> rest = new ArrayList<>();
        synchronized (held) {
            rest.addAll(held);
            held.clear();
        }
        queue.drainTo(rest);
        for (Request r : rest) r.result().completeExceptionally(new RejectedExecutionException("the captioner shut down"));
    }

    /** The oldest request and the ones with its options that arrive within the wait; null once closed and empty. */
    private List<Request> nextBatch() throws InterruptedException {
        Request first;
        synchronized (held) {
            first = held.isEmpty() ? null : held.remove(0);
        }
        while (first == null) {
            if (closing && queue.isEmpty()) return null;
            first = queue.poll(50, TimeUnit.MILLISECONDS);
        }
        List<Request> batch = new ArrayList<>(List.of(first));
        synchronized (held) {                                     // held requests with the same options join first
            for (Iterator<Request> it = held.iterator(); it.hasNext() && batch.size() < maxBatch; ) {
                Request r = it.next();
                if (r.options().equals(first.options())) {
                    batch.add(r);
                    it.remove();
                }
            }
        }
        long deadline = System.nanoTime() + maxWaitNanos;
        while (batch.size() < maxBatch) {
            long left = deadline - System.nanoTime();
            Request r = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
            if (r == null) break;
            if (r.options().equals(first.options())) batch.add(r);
            else synchronized (held) {
                held.add(r);
            }
        }
        return batch;
    }

    private void caption(List<Request> batch) {
        int n = batch.size();
        try {
            if (onBatch != null) onBatch.accept(n);
            List<Caption> out = pipeline.caption(batch.stream().map(Request::chw).toList(), batch.get(0).options());
            for (int i = 0; i < n; i++) batch.get(i).result().complete(out.get(i));
        } catch (RuntimeException | Error e) {
            for (Request r : batch) r.result().completeExceptionally(e);
        }
    }

    /** Stops taking requests, finishes those already queued, and waits for the worker. */
    @Override
    public void close() {
        closing = true;
        try {
            worker.join(TimeUnit.MINUTES.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
