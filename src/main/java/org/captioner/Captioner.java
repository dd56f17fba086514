package org.captioner;

import org.captioner.decode.CaptionSearch;
import org.captioner.decode.DecodeOptions;
import org.captioner.decode.Hypothesis;
import org.captioner.encoder.EncodedBatch;
import org.captioner.encoder.EncoderType;
import org.captioner.encoder.Encoders;
import org.captioner.encoder.ImageEncoder;
import org.captioner.image.ImagePreprocessor;
import org.captioner.image.ImageBatchLoader;
import org.captioner.image.ImageDecoder;
import org.captioner.image.ImageLoadException;
import org.captioner.model.DecoderType;
import org.captioner.model.ModelBundle;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Captions images from Java code: the embedded API.
 * <pre>{@code
 * try (Captioner c = Captioner.builder().beam(3).build(Path.of("models/default"))) {
 *     System.out.println(c.caption(Path.of("photo.jpg")).text());
 * }
 * }</pre>
 * Pre-processing (decode, resize, normalise) is kept apart from the networks, as in DJL's predictors. The
 * encoder weights are found as for the CLI ({@code CAPTIONER_WEIGHTS_DIR}, the DL4J zoo, or {@link Builder#weights})
 * and must be the ones the model was trained with (checked by SHA-256). Safe for concurrent callers: network
 * calls are serialised, image decoding is not. {@link #close()} frees the networks' native memory; a closed
 * Captioner refuses every call with {@link IllegalStateException}.
 */
public final class Captioner implements AutoCloseable {
    public static final String MODEL_PROPERTY = "captioner.model", MODEL_ENV = "CAPTIONER_MODEL";

    private final ModelBundle model;
    private final ImageEncoder encoder;
    private final DecodeOptions options;
    private final ImageDecoder decoder = new ImageDecoder();
    private final ImagePreprocessor preprocessor;
    private final CaptionSearch search;
    private DynamicBatcher batcher;               // for asyncCaption, created on first use
    private final Object batcherLock = new Object();
    private final int batchSize, batchWaitMs, queueCapacity;
    private boolean closing;                       // under batcherLock: no new asynchronous work
    private boolean closed;                        // under this: the networks are freed

    private Captioner(ModelBundle model, ImageEncoder encoder, DecodeOptions options, int batchSize, int batchWaitMs, int queueCapacity) {
        this.model = model;
        this.encoder = encoder;
        this.options = options;
        this.batchSize = batchSize;
        this.batchWaitMs = batchWaitMs;
        this.queueCapacity = queueCapacity;
        this.preprocessor = encoder.type().preprocessor();
        this.search = new CaptionSearch(model.decoder(), model.vocabulary());
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

    public ModelBundle model() {
        return model;
    }

    public Caption caption(Path image) throws IOException {
        return caption(decoder.decode(image));
    }

    public Caption caption(InputStream image) throws IOException {
        return caption(decoder.decode(image));
    }

    public Caption caption(BufferedImage image) {
        float[] px = preprocessor.toChw(ImageDecoder.toRgb(image));
        int s = preprocessor.size();
        return captionTensor(Nd4j.create(px, new long[] {1, 3, s, s}, 'c')).get(0);
    }

    /**
     * Captions many files, decoding them on background threads while the networks run; a file that cannot be
     * read is an {@link ImageLoadException} naming it (the CLI reports and skips instead).
     */
    public List<Caption> captionAll(List<Path> images) throws IOException {
        List<Caption> out = new ArrayList<>();
        try (ImageBatchLoader loader = new ImageBatchLoader(decoder, preprocessor, 2, 2)) {
            var it = loader.batches(images, 16);
            while (it.hasNext()) {
                ImageBatchLoader.Batch b = it.next();
                for (ImageBatchLoader.Item item : b.items()) {
                    if (!item.ok()) throw new ImageLoadException(item.file() + ": " + item.error());
                }
                out.addAll(captionTensor(b.images()));
            }
        }
        return out;
    }

    /** Captions preprocessed images [B, 3, H, W] (see {@link ImagePreprocessor}). */
    public List<Caption> captionTensor(INDArray images) {
        return captionTensor(images, options);
    }

    /** The same with other decoding options (beam, n-best, sampling) than the builder's. */
    public List<Caption> captionTensor(INDArray images, DecodeOptions decodeOptions) {
        EncodedBatch enc;
        List<List<Hypothesis>> hyps;
        synchronized (this) {
            if (closed) throw new IllegalStateException("this Captioner is closed");
            enc = encoder.encode(images);
            INDArray grids = model.config().type().attends() ? enc.grid() : null;
            hyps = search.generate(enc.vectors(), grids, decodeOptions);
        }
        List<Caption> out = new ArrayList<>();
        for (List<Hypothesis> nb : hyps) {
            List<Caption> all = new ArrayList<>();
            for (Hypothesis h : nb) all.add(toCaption(h, List.of()));
            Caption best = all.get(0);
            out.add(new Caption(best.text(), best.score(), best.tokens(), all, best.attention()));
        }
        return out;
    }

    private Caption toCaption(Hypothesis h, List<Caption> nbest) {
        List<String> words = model.vocabulary().decode(h.tokens());
        return new Caption(String.join(" ", words), h.logProb(), words, nbest, h.attention());
    }

    /**
     * Captions one image in a batch shared with other concurrent callers (a {@link DynamicBatcher}, created on first
     * use, of up to {@link Builder#batching} images gathered for a few milliseconds): for services that caption many
     * requests at once. When its queue is full the future fails at once with a
     * {@link java.util.concurrent.RejectedExecutionException}.
     */
    public java.util.concurrent.CompletableFuture<Caption> asyncCaption(BufferedImage image) {
        DynamicBatcher b;
        synchronized (batcherLock) {                  // not the network lock: callers must queue while a batch runs
            if (closing) throw new IllegalStateException("this Captioner is closed");
            if (batcher == null) batcher = new DynamicBatcher(this, batchSize, batchWaitMs, queueCapacity, null);
            b = batcher;
        }
        try {
            return b.submit(preprocessor.toChw(ImageDecoder.toRgb(image)), options);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
    }

    public ImageDecoder imageDecoder() {
        return decoder;
    }

    public ImagePreprocessor preprocessor() {
        return preprocessor;
    }

    public DecodeOptions options() {
        return options;
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
        synchronized (this) {
            if (closed) return;
            closed = true;
            encoder.close();
            model.decoder().close();
        }
    }

    /** Options: beam width, n-best, sampling, maximum length, encoder weights. */
    public static final class Builder {
        private int beam = 3, nbest = 1, topK = 0, maxLength = -1;
        private boolean sample;
        private double temperature = 1.0;
        private Double lengthAlpha;                    // null: the model's recommended value
        private long seed = 42;
        private Path weights;
        private int batchSize = 16, batchWaitMs = 10, queueCapacity = 256;

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

        public DecodeOptions decodeOptions(ModelBundle m) {
            int len = maxLength > 0 ? maxLength : m.config().maxLength();
            double alpha = lengthAlpha != null ? lengthAlpha : m.recommendedLengthAlpha();
            return new DecodeOptions(sample ? 1 : beam, nbest, alpha, sample, temperature, topK, len, false, seed);
        }

        private static String pinnedHint(EncoderType type, String sha) {
            return type.pinned != null && type.pinned.sha256().equals(sha)
                    ? ". The right file is " + type.pinned.url() + " (fetched by itself when no other weights are configured)" : "";
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
            ModelBundle m = ModelBundle.load(modelDir);
            DecodeOptions o = decodeOptions(m);
            ImageEncoder enc = Encoders.load(EncoderType.parse(m.encoder()), weights);
            if (!enc.weightsSha256().equals(m.encoderWeightsSha256())) {
                throw new IOException("the model in " + modelDir + " was trained on " + m.encoder() + " features from weights with SHA-256 "
                        + m.encoderWeightsSha256() + ", but the weights found (" + enc.weightsSource() + ") have " + enc.weightsSha256()
                        + pinnedHint(enc.type(), m.encoderWeightsSha256()));
            }
            return new Captioner(m, enc, o, batchSize, batchWaitMs, queueCapacity);
        }
    }
}
