package org.captioner;

import org.captioner.decode.DecodeOptions;
import org.captioner.image.ImageDecoder;
import org.captioner.image.ImageLoadException;
import org.captioner.pipeline.CaptionPipeline;
import org.captioner.pipeline.DynamicBatcher;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Captions images from Java code: the embedded API.
 * <pre>{@code
 * try (Captioner c = Captioner.builder().beam(3).build(Path.of("models/default"))) {
 *     System.out.println(c.caption(Path.of("photo.jpg")).text());
 * }
 * }</pre>
 * Pre-processing (decode, resize, normalise) is kept apart from the networks, as in DJL's predictors. The
 * encoder weights are found as for the CLI ({@code CAPTIONER_WEIGHTS_DIR}, the DL4J zoo, or {@link Builder#weights})
 * and must be the ones the model was trained with (checked by SHA-256). Built on the same pipeline as the CLI,
 * {@code serve} and the Spark job, so the same image and options give the same caption everywhere.
 * <p>
 * Safe for concurrent callers. Synchronous calls ({@link #caption}) decode their images concurrently and take turns
 * on the networks (one network call at a time: the networks already use every core a batch can, so two callers get
 * about the throughput of one; {@code ./captioner bench latency --callers 1,2} measures it). Callers that want their
 * images batched together use {@link #asyncCaption}. {@link #close()} frees the networks' native memory; a closed
 * Captioner refuses every call with {@link IllegalStateException}.
 */
public final class Captioner implements AutoCloseable {
    public static final String MODEL_PROPERTY = "captioner.model", MODEL_ENV = "CAPTIONER_MODEL";

    private final CaptionPipeline pipeline;
    private final DecodeOptions options;
    private DynamicBatcher batcher;               // for asyncCaption, created on first use
    private final Object batcherLock = new Object();
    private final int batchSize, batchWaitMs, queueCapacity;
    private boolean closing;                       // under batcherLock: no new asynchronous work
    private volatile boolean closed;

    private Captioner(CaptionPipeline pipeline, DecodeOptions options, int batchSize, int batchWaitMs, int queueCapacity) {
        this.pipeline = pipeline;
        this.options = options;
        this.batchSize = batchSize;
        this.batchWaitMs = batchWaitMs;
        this.queueCapacity = queueCapacity;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static Captioner load(Path model) throws IOException {
        return builder().build(model);
    }

    /** The bundled default model (see {@link #defaultModel()}). */
    public static Captioner loadDefault() throws IOException {
        return builder().buildDefault();
    }

    /**
     * Where the default model is: {@code -Dcaptioner.model}, else {@code CAPTIONER_MODEL}, else {@code models/default}
     * under the working directory (a checkout), else the model bundled in Captioner's jar (copied once into the
     * cache, see {@link ModelSource}), so that it loads from any working directory.
     */
    public static Path defaultModel() throws IOException {
        String p = System.getProperty(MODEL_PROPERTY);
        if (p == null || p.isBlank()) p = System.getenv(MODEL_ENV);
        if (p != null && !p.isBlank()) return Path.of(p);
        Path cwd = Path.of("models", "default").toAbsolutePath();
        if (Files.isDirectory(cwd)) return cwd;
        java.net.URI bundled = ModelSource.bundledUri();
        if (bundled != null) return ModelSource.materialize(bundled.toURL());
        throw new IOException("no default model found (looked in " + cwd + " and for the classpath resource " + ModelSource.BUNDLED
                + "); pass --model or set " + MODEL_ENV);
    }

    /** The folder the model was loaded from. */
    public Path modelDir() {
        return pipeline.model().dir();
    }

    public Caption caption(Path image) throws IOException {
        return caption(ImageInput.of(image));
    }

    public Caption caption(InputStream image) throws IOException {
        return caption(ImageInput.of("stream", image.readAllBytes()));
    }

    public Caption caption(BufferedImage image) {
        try {
            return caption(ImageInput.of("image", image));
        } catch (ImageLoadException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private Caption caption(ImageInput in) throws ImageLoadException {
        checkOpen();
        return pipeline.caption(List.of(pipeline.prepare(in)), options).get(0);
    }

    /**
     * Captions many files, decoding them on background threads while the networks run; a file that cannot be
     * read is an {@link ImageLoadException} naming it ({@link #captionStream} reports and goes on instead).
     */
    public List<Caption> captionAll(List<Path> images) throws IOException {
        List<Caption> out = new ArrayList<>();
        Iterator<CaptionRecord> it = captionStream(images.stream().map(ImageInput::of).iterator());
        while (it.hasNext()) {
            CaptionRecord r = it.next();
            if (!r.ok()) throw new ImageLoadException(r.image() + ": " + r.error());
            out.add(r.caption());
        }
        return out;
    }

    /**
     * Captions a stream of inputs (files, bytes, pixels) as the CLI does: decoding on two background threads,
     * batches of the builder's {@code maxBatch}, one record per input in input order, a failed image a record with its
     * reason. Inputs are read only a few batches ahead, so the stream may be as long as it likes.
     */
    public Iterator<CaptionRecord> captionStream(Iterator<ImageInput> inputs) {
        checkOpen();
        var batches = pipeline.caption(inputs, options, batchSize, 2, false);
        return new Iterator<>() {
            private Iterator<CaptionRecord> current = java.util.Collections.emptyIterator();

            @Override
            public boolean hasNext() {
                while (!current.hasNext() && batches.hasNext()) current = batches.next().iterator();
                return current.hasNext();
            }

            @Override
            public CaptionRecord next() {
                if (!hasNext()) throw new java.util.NoSuchElementException();
                return current.next();
            }
        };
    }

    /**
     * Captions one image in a batch shared with other concurrent callers (a {@link DynamicBatcher}, created on first
     * use, of up to {@link Builder#batching} images gathered for a few milliseconds): for services that caption many
     * requests at once. When its queue is full the future fails at once with a
     * {@link java.util.concurrent.RejectedExecutionException}.
     */
    public CompletableFuture<Caption> asyncCaption(BufferedImage image) {
        DynamicBatcher b;
        synchronized (batcherLock) {                  // not the network lock: callers must queue while a batch runs
            if (closing) throw new IllegalStateException("this Captioner is closed");
            if (batcher == null) batcher = new DynamicBatcher(pipeline, batchSize, batchWaitMs, queueCapacity, null);
            b = batcher;
        }
        try {
            return b.submit(pipeline.preprocessor().toChw(ImageDecoder.toRgb(image)), options);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("this Captioner is closed");
    }

    /**
     * Finishes the batch {@link #asyncCaption} callers share, if any, then frees the networks' native memory (their
     * parameters live off the Java heap). Later calls fail with {@link IllegalStateException}; closing twice is harmless.
     */
    @Override
    public void close() {
        DynamicBatcher b;
        synchronized (batcherLock) {
            closing = true;
            b = batcher;
            batcher = null;
        }
        if (b != null) b.close();
        closed = true;
        pipeline.close();
    }

    /** Options: beam width, n-best, sampling, maximum length, encoder weights. */
    public static final class Builder {
        private int beam = Integer.parseInt(DecodeOptions.DEFAULT_BEAM), nbest = 1, topK = 0, maxLength = -1;
        private boolean sample;
        private double temperature = 1.0;
        private Double lengthAlpha;                    // null: the model's recommended value
        private boolean blockTrigrams;
        private long seed = 42;
        private Path weights;
        private int batchSize = Integer.parseInt(DecodeOptions.DEFAULT_BATCH), batchWaitMs = 10, queueCapacity = 256;

        public Builder beam(int k) {
            this.beam = k;
            return this;
        }

        public Builder nbest(int n) {
            this.nbest = n;
            return this;
        }

        public Builder lengthAlpha(double a) {
            this.lengthAlpha = a;
            return this;
        }

        /** Beam search never repeats a word trigram within a caption. */
        public Builder blockTrigrams(boolean block) {
            this.blockTrigrams = block;
            return this;
        }

        public Builder sample(double temperature, int topK, long seed) {
            this.sample = true;
            this.temperature = temperature;
            this.topK = topK;
            this.seed = seed;
            return this;
        }

        public Builder maxLength(int n) {
            this.maxLength = n;
            return this;
        }

        /**
         * How {@link #asyncCaption} callers share batches: at most {@code maxBatch} images per network call, gathered
         * for up to {@code maxWaitMs}, and at most {@code queue} images waiting (more fail at once). Defaults 16, 10, 256.
         */
        public Builder batching(int maxBatch, int maxWaitMs, int queue) {
            if (maxBatch < 1 || maxBatch > 256) throw new IllegalArgumentException("maxBatch must be in [1, 256], got " + maxBatch);
            if (maxWaitMs < 0 || maxWaitMs > 10_000) throw new IllegalArgumentException("maxWaitMs must be in [0, 10000], got " + maxWaitMs);
            if (queue < 1) throw new IllegalArgumentException("queue must be >= 1, got " + queue);
            this.batchSize = maxBatch;
            this.batchWaitMs = maxWaitMs;
            this.queueCapacity = queue;
            return this;
        }

        /** Encoder weights file (default: CAPTIONER_WEIGHTS_DIR, the cache, the pinned download, then the DL4J zoo). */
        public Builder weights(Path file) {
            this.weights = file;
            return this;
        }


        /** The bundled default model ({@link #defaultModel()}). */
        public Captioner buildDefault() throws IOException {
            return build(defaultModel());
        }

        /**
         * A model folder behind a URL: {@code file:} as it is; a folder inside a jar ({@code jar:file:...!/dir/}) or
         * on an HTTP server is copied once into the cache ({@link ModelSource}) and checked as any bundle.
         */
        public Captioner build(java.net.URL modelFolder) throws IOException {
            return build(ModelSource.materialize(modelFolder));
        }

        public Captioner build(Path modelDir) throws IOException {
            DecodeOptions.check(beam, nbest, sample, temperature, topK, lengthAlpha);
            CaptionPipeline p = CaptionPipeline.load(modelDir, weights);
            DecodeOptions o = p.options(beam, nbest, lengthAlpha, sample, temperature, topK, seed).withBlockTrigrams(blockTrigrams);
            if (maxLength > 0) o = o.withMaxLength(maxLength);
            return new Captioner(p, o, batchSize, batchWaitMs, queueCapacity);
        }
    }
}
