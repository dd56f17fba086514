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
    private boolean closed;                                    // under this: the networks are freed

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
        if (images.isEmpty()) return List.of();
        long t0 = System.nanoTime();
        INDArray x = ImageBatchLoader.stack(images, preprocessor().size());
        List<List<Hypothesis>> hyps;
        synchronized (this) {
            if (closed) throw new IllegalStateException("this captioner is closed");
            long t1 = System.nanoTime();
            EncodedBatch enc = encoder.encode(x);
            long t2 = System.nanoTime();
            hyps = search.generate(enc.vectors(), model.config().type().attends() ? enc.grid() : null, options);
            long t3 = System.nanoTime();
            memory.processed(images.size());
            times.add("stack", t1 - t0);
            times.add("encoder", t2 - t1);
            times.add("search", t3 - t2);
            times.add("memory", System.nanoTime() - t3);
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

    /**
     * Streams inputs through decoding ({@code threads} threads, a few batches ahead) and the networks in batches of
     * {@code batch}: each element is one batch's records, in input order, failed images included. Inputs are read only
     * as far as the look-ahead needs, so a Spark partition or a folder of millions streams in flat memory.
     */
    public ImageBatchLoader.BatchStream<List<CaptionRecord>> caption(Iterator<ImageInput> inputs, DecodeOptions options, int batch, int threads) {
        ImageBatchLoader.BatchStream<ImageBatchLoader.Batch> batches =
                new ImageBatchLoader(new ImageDecoder(), preprocessor(), threads, 2).batches(inputs, batch);
        return new ImageBatchLoader.BatchStream<>() {
            @Override
            public boolean hasNext() {
                return batches.hasNext();
            }

            @Override
            public List<CaptionRecord> next() {
                if (!hasNext()) throw new NoSuchElementException();
                long t0 = System.nanoTime();
                ImageBatchLoader.Batch b = batches.next();
                times.add("decode_wait", System.nanoTime() - t0);       // waiting for the decoding threads
                Iterator<Caption> caps = caption(b.pixels(), options).iterator();
                List<CaptionRecord> records = new ArrayList<>(b.items().size());
                for (ImageBatchLoader.Item item : b.items()) {
                    records.add(item.ok() ? CaptionRecord.of(item.name(), caps.next()) : CaptionRecord.failed(item.name(), item.error()));
                }
                return records;
            }

            @Override
            public void close() {
                batches.close();
            }
        };
    }

    /** Frees the networks' native memory (their parameters live off the Java heap); later calls fail. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        encoder.close();
        model.decoder().close();
    }
}
