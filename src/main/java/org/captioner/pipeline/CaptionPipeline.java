package org.captioner.pipeline;

import org.captioner.Caption;
import org.captioner.CaptionRecord;
import org.captioner.ImageInput;
import org.captioner.decode.CaptionSearch;
import org.captioner.decode.DecodeOptions;
import org.captioner.decode.Hypothesis;
import org.captioner.encoder.EncodedBatch;
import org.captioner.encoder.EncoderType;
import org.captioner.encoder.Encoders;
import org.captioner.encoder.ImageEncoder;
import org.captioner.image.ImageBatchLoader;
import org.captioner.image.ImageDecoder;
import org.captioner.image.ImagePreprocessor;
import org.captioner.model.ModelBundle;
import org.captioner.util.NativeMemory;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The one road from images to captions, under the CLI's {@code caption}, the embedded API, {@code serve} and the Spark
 * caption job: inputs (files, bytes, pixels, each with a name) → decoding on background threads → the encoder's
 * preprocessing → batches → encoder → caption search → one {@link CaptionRecord} per input, in input order (a caption,
 * or the reason the image failed). The front ends only gather inputs and write records.
 * <p>
 * {@link #caption(List, DecodeOptions)} is the batch function every road ends in (the streaming one here, and the
 * {@link DynamicBatcher} that gathers concurrent requests): network calls are serialised on this pipeline, decoding
 * is not; native memory is released in step with the work there.
 */
public final class CaptionPipeline implements AutoCloseable {
    private final ModelBundle model;
    private final ImageEncoder encoder;
    private final CaptionSearch search;
    private final ImageBatchLoader loader;
    private final NativeMemory memory = new NativeMemory(256);
    private final StageTimes times = new StageTimes();
    private final Object encoderLock = new Object(), searchLock = new Object();   // one batch per stage at a time
    private volatile boolean closed;                           // the networks are freed

    public CaptionPipeline(ModelBundle model, ImageEncoder encoder) {
        this.model = model;
        this.encoder = encoder;
        this.search = new CaptionSearch(model.decoder(), model.vocabulary());
        this.loader = new ImageBatchLoader(new ImageDecoder(), encoder.type().preprocessor(), 1, 2);
    }

    /**
     * Loads a model folder and the encoder it was trained on ({@code weights}: a file, or null to find them as
     * {@link Encoders#load} does), refusing weights whose SHA-256 is not the model's.
     */
    public static CaptionPipeline load(Path modelDir, Path weights) throws IOException {
        ModelBundle m = ModelBundle.load(modelDir);
        ImageEncoder enc = Encoders.load(EncoderType.parse(m.encoder()), weights);
        if (!enc.weightsSha256().equals(m.encoderWeightsSha256())) {
            enc.close();
            throw new IOException("the model in " + modelDir + " was trained on " + m.encoder() + " features from weights with SHA-256 "
                    + m.encoderWeightsSha256() + ", but the weights found (" + enc.weightsSource() + ") have " + enc.weightsSha256()
                    + pinnedHint(enc.type(), m.encoderWeightsSha256()));
        }
        return new CaptionPipeline(m, enc);
    }

    private static String pinnedHint(EncoderType type, String sha) {
        return type.pinned != null && type.pinned.sha256().equals(sha)
                ? ". The right file is " + type.pinned.url() + " (fetched by itself when no other weights are configured)" : "";
    }

    public ModelBundle model() {
        return model;
    }

    /** Where this pipeline's time went so far, stage by stage (for {@code caption --stats-json} and benchmarks). */
    public StageTimes times() {
        return times;
    }

    public ImagePreprocessor preprocessor() {
        return encoder.type().preprocessor();
    }

    /** Decoding options for this pipeline's model ({@link ModelBundle#decodeOptions}). */
    public DecodeOptions options(int beam, int nbest, Double lengthAlpha, boolean sample, double temperature, int topK, long seed) {
        return model.decodeOptions(beam, nbest, lengthAlpha, sample, temperature, topK, seed);
    }

    /** Decodes and preprocesses one input on the caller's thread (the encoder's input, [3, S, S]). */
    public float[] prepare(ImageInput in) throws org.captioner.image.ImageLoadException {
        return loader.prepare(in);
    }

    /** Captions preprocessed images ({@link #prepare}), one caption each, in order: the batch function. */
    public List<Caption> caption(List<float[]> images, DecodeOptions options) {
        return images.isEmpty() ? List.of() : search(encode(images), options);
    }

    /**
     * The encoder's stage: one batch at a time under its own lock, so that another batch's search can run meanwhile
     * (the search gains little from a second core, the encoder uses it).
     */
    private EncodedBatch encode(List<float[]> images) {
        long t0 = System.nanoTime();
        INDArray x = ImageBatchLoader.stack(images, preprocessor().size());
        synchronized (encoderLock) {
            checkOpen();
            long t1 = System.nanoTime();
            EncodedBatch enc = encoder.encode(x);
            times.add("stack", t1 - t0);
            times.add("encoder", System.nanoTime() - t1);
            return enc;
        }
    }

    /** The search's stage, under its own lock: captions of an encoded batch, in order. */
    private List<Caption> search(EncodedBatch enc, DecodeOptions options) {
        List<List<Hypothesis>> hyps;
        synchronized (searchLock) {
            checkOpen();
            long t0 = System.nanoTime();
            hyps = search.generate(enc.vectors(), model.config().type().attends() ? enc.grid() : null, options);
            long t1 = System.nanoTime();
            memory.processed((int) enc.size());
            times.add("search", t1 - t0);
            times.add("memory", System.nanoTime() - t1);
        }
        List<Caption> out = new ArrayList<>(hyps.size());
        for (List<Hypothesis> nb : hyps) {
            List<Caption> all = new ArrayList<>();
            for (Hypothesis h : nb) all.add(Caption.of(model.vocabulary().decode(h.tokens()), h.logProb(), List.of(), h.attention()));
            Caption best = all.get(0);
            out.add(Caption.of(best.tokens(), best.score(), all, best.attention()));
        }
        return out;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("this captioner is closed");
    }

    /** A decoded batch and its encoding (null when no image of the batch could be decoded). */
    private record Encoded(ImageBatchLoader.Batch batch, EncodedBatch enc) {
    }

    /**
     * Streams inputs through decoding ({@code threads} threads, a few batches ahead) and the networks in batches of
     * {@code batch}: each element is one batch's records, in input order, failed images included. With
     * {@code overlapStages} the encoder works on the next batch (on a thread of its own) while the caller's thread
     * searches this one, and the two stages share the cores (the {@code caption} command gives ND4J half of them each,
     * {@code OMP_NUM_THREADS}: 1.15-1.2x on 2 cores, see docs/performance.md). Inputs are read only as
     * far as the look-ahead needs, so a Spark partition or a folder of millions streams in flat memory.
     */
    public ImageBatchLoader.BatchStream<List<CaptionRecord>> caption(Iterator<ImageInput> inputs, DecodeOptions options, int batch, int threads,
                                                                     boolean overlapStages) {
        ImageBatchLoader.BatchStream<ImageBatchLoader.Batch> batches =
                new ImageBatchLoader(new ImageDecoder(), preprocessor(), threads, 2).batches(inputs, batch);
        // without overlap (Spark runs a task per core already; the API leaves the cores to its caller) there is no
        // encoder thread: the caller runs each batch's encoding itself when it needs it
        java.util.concurrent.ExecutorService encoding = !overlapStages ? null : java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "captioner-encoder");
            t.setDaemon(true);
            return t;
        });
        java.util.concurrent.Callable<Encoded> encodeNext = () -> {
            long t0 = System.nanoTime();
            ImageBatchLoader.Batch b = batches.next();
            times.add("decode_wait", System.nanoTime() - t0);       // waiting for the decoding threads
            List<float[]> px = b.pixels();
            return new Encoded(b, px.isEmpty() ? null : encode(px));
        };
        return new ImageBatchLoader.BatchStream<>() {
            private java.util.concurrent.FutureTask<Encoded> pending = batches.hasNext() ? start() : null;

            /** The next batch's encoding: started on the encoder thread, or left for {@link #next} to run. */
            private java.util.concurrent.FutureTask<Encoded> start() {
                java.util.concurrent.FutureTask<Encoded> f = new java.util.concurrent.FutureTask<>(encodeNext);
                if (encoding != null) encoding.execute(f);
                return f;
            }

            @Override
            public boolean hasNext() {
                if (pending == null) close();
                return pending != null;
            }

            @Override
            public List<CaptionRecord> next() {
                if (!hasNext()) throw new NoSuchElementException();
                Encoded e;
                try {
                    pending.run();                    // does nothing if the encoder thread has it (get() then waits)
                    e = pending.get();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", ex);
                } catch (java.util.concurrent.ExecutionException ex) {
                    throw ex.getCause() instanceof RuntimeException r ? r : new IllegalStateException(ex.getCause());
                }
                pending = batches.hasNext() ? start() : null;                      // the next batch encodes meanwhile
                Iterator<Caption> caps = e.enc() == null ? java.util.Collections.emptyIterator() : search(e.enc(), options).iterator();
                List<CaptionRecord> records = new ArrayList<>(e.batch().items().size());
                for (ImageBatchLoader.Item item : e.batch().items()) {
                    records.add(item.ok() ? CaptionRecord.of(item.name(), caps.next()) : CaptionRecord.failed(item.name(), item.error()));
                }
                return records;
            }

            @Override
            public void close() {
                if (encoding != null) encoding.shutdownNow();
                batches.close();
            }
        };
    }

    /** Frees the networks' native memory (their parameters live off the Java heap); later calls fail. */
    @Override
    public void close() {
        synchronized (encoderLock) {
            synchronized (searchLock) {
                if (closed) return;
                closed = true;
                encoder.close();
                model.decoder().close();
            }
        }
    }
}
