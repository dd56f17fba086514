package org.captioner.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.captioner.data.ImageCaptions;
import org.captioner.data.TrainingSet;
import org.captioner.decode.DecodeOptions;
import org.captioner.decode.Hypothesis;
import org.captioner.eval.Scores;
import org.captioner.features.FeatureSet;
import org.captioner.model.CaptionDecoder;
import org.captioner.model.DecoderConfig;
import org.captioner.model.Decoders;
import org.captioner.model.ModelBundle;
import org.captioner.text.Vocabulary;
import org.captioner.util.AtomicFiles;
import org.captioner.util.Progress;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The training loop: teacher forcing (optionally scheduled sampling) on cached features, Adam, gradient clipping; after each epoch
 * the dev images are captioned (beam search) and scored with CIDEr-D/BLEU; the best epoch is kept as the model,
 * the learning rate decays when dev CIDEr-D stops improving, and training stops early after {@code patience}
 * epochs without improvement. A checkpoint (parameters, optimizer state, position in the epoch's fixed batch
 * order) is written atomically every N steps and at each epoch end, so a killed run resumes losing at most N steps.
 */
public final class Trainer {
    private static final Logger log = LoggerFactory.getLogger(Trainer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String CHECKPOINT_DIR = "checkpoint", STATE = "state.json", LOG_CSV = "training-log.csv";
    /**
     * In a self-critical run's folder: the cross-entropy training log of the model it started from (that model's own
     * log, or, when it was itself fine-tuned, the cross-entropy log it carries), so the bundle keeps that history.
     */
    public static final String INIT_LOG_CSV = "init-training-log.csv";

    /** What to train on. */
    public record Data(List<ImageCaptions> train, List<ImageCaptions> dev, FeatureSet trainFeatures, FeatureSet devFeatures,
                       String description) {
    }

    private final TrainOptions o;
    private final Data data;
    private final String commandLine;
    /** Test hook: stop (as if killed) after this many steps in this process; 0 = never. */
    private long maxSteps = 0;

    private boolean progress = true;

    /** Whether to show progress on stderr ({@code train --no-progress} turns it off). */
    public Trainer progress(boolean show) {
        this.progress = show;
        return this;
    }

    public Trainer(TrainOptions options, Data data, String commandLine) {
        this.o = options;
        this.data = data;
        this.commandLine = commandLine;
    }

    /**
     * Stops after {@code n} steps of this process (0: no limit), as a kill would, with the checkpoints it made: what
     * {@code bench train-scale} times, and what the resume tests interrupt.
     */
    public Trainer maxSteps(long n) {
        this.maxSteps = n;
        return this;
    }

    private java.util.function.LongConsumer onStep = step -> { };

    /** Called after every optimisation step with the run's step count (benchmarks time the steps with it). */
    public Trainer onStep(java.util.function.LongConsumer listener) {
        this.onStep = listener;
        return this;
    }

    private Double resumeLearningRate;

    /**
     * On {@code --resume}, continue at this learning rate instead of the checkpoint's (an explicit {@code --lr}): e.g.
     * a finished self-critical run extended at a lower rate, keeping its Adam moments.
     */
    public Trainer resumeAtLearningRate(double lr) {
        this.resumeLearningRate = lr;
        return this;
    }

    public TrainingState run(boolean resume) throws IOException {
        Path ckpt = o.out().resolve(CHECKPOINT_DIR);
        boolean hasCheckpoint = Files.isRegularFile(ckpt.resolve(STATE));
        if (hasCheckpoint && !resume) {
            throw new IOException(o.out() + " already holds a training run; pass --resume to continue it, or choose another --out");
        }
        if (resume && !hasCheckpoint) throw new IOException("nothing to resume: no checkpoint in " + ckpt);
        Files.createDirectories(ckpt);

        List<ImageCaptions> trainImages = limit(data.train(), o.limitTrainImages());
        List<ImageCaptions> devImages = limit(data.dev(), o.limitDevImages());
        // self-critical fine-tuning starts from a cross-entropy model: its vocabulary, sizes and parameters
        ModelBundle init = o.scst() == null ? null : ModelBundle.load(o.scst().init());
        Vocabulary vocab;
        if (resume) {
            vocab = Vocabulary.load(ckpt.resolve(ModelBundle.VOCAB));
        } else if (init != null) {
            vocab = init.vocabulary();
            vocab.save(ckpt.resolve(ModelBundle.VOCAB));
        } else {
            List<String> caps = trainImages.stream().flatMap(i -> i.captions().stream()).toList();
            vocab = Vocabulary.build(caps, o.minCount());
            vocab.save(ckpt.resolve(ModelBundle.VOCAB));
        }
        TrainingSet train = new TrainingSet(trainImages, data.trainFeatures(), vocab, o.maxLength());
        TrainingSet dev = new TrainingSet(devImages, data.devFeatures(), vocab, o.maxLength());
        if (train.pairs().isEmpty()) throw new IOException("the training split is empty");
        log.info("train: {} images, {} captions ({} cut to {} words), {} target tokens/epoch; dev: {} images; vocabulary {} words (min count {})",
                train.images().size(), train.pairs().size(), train.truncatedCaptions(), o.maxLength(), train.targetTokens(),
                dev.images().size(), vocab.size(), o.minCount());

        FeatureSet.Meta meta = data.trainFeatures().meta();
        if (!meta.weightsSha256().equals(data.devFeatures().meta().weightsSha256())) {
            throw new IOException("train and dev features were computed with different encoder weights");
        }
        DecoderConfig cfg;
        if (init != null) {
            if (!init.encoderWeightsSha256().equals(meta.weightsSha256())) {
                throw new IOException("--init " + o.scst().init() + " was trained on " + init.encoder() + " features from weights with SHA-256 "
                        + init.encoderWeightsSha256() + ", but --features " + data.trainFeatures().dir() + " come from " + meta.encoder()
                        + " weights " + meta.weightsSha256());
            }
            cfg = init.config();
        } else {
            cfg = DecoderConfig.defaults(o.decoder(), vocab.size(), meta.vectorDim(), meta.gridSide() * meta.gridSide(), meta.gridChannels())
                    .withSizes(o.embedSize(), o.hidden(), o.dropout(), o.maxLength()).withAttentionMap(o.attentionMap())
                    .withLayers(o.layers()).withContextProjection(o.contextProjection());
        }
        boolean attention = cfg.type().attends();
        TrainingState st;
        CaptionDecoder dec;
        if (resume) {
            st = TrainingState.load(ckpt.resolve(STATE));
            if (st.finished) {
                // A run that stopped at its --epochs limit (not by early stopping) continues when --epochs is raised:
                // from its last state, with its image order, sample seeds and learning rate, as one longer run would.
                // (Starting a new run from its bundle would replay epoch 1's order and seeds on a trained model.)
                boolean earlyStopped = st.epochsWithoutImprovement >= o.patience();
                if (earlyStopped || st.epoch > o.epochs()) {
                    log.info("training in {} already finished after epoch {} ({}; best epoch {}, dev CIDEr-D {})", o.out(), st.epoch - 1,
                            earlyStopped ? "early stop" : "raise --epochs to continue it", st.bestEpoch, String.format("%.4f", st.bestScore));
                    return st;
                }
                log.info("extending the finished run in {} from {} to {} epochs", o.out(), st.epoch - 1, o.epochs());
                st.finished = false;
            }
            dec = Decoders.load(cfg, ckpt.resolve(st.decoderFile != null ? st.decoderFile : ModelBundle.DECODER), true, o.attentionLambda());
            if (resumeLearningRate != null && resumeLearningRate != st.learningRate) {
                log.info("learning rate {} (--lr) instead of the checkpoint's {}", resumeLearningRate, st.learningRate);
                st.learningRate = resumeLearningRate;
            }
            dec.setLearningRate(st.learningRate);
            log.info("resuming at epoch {}, batch {} (step {}), learning rate {}", st.epoch, st.batchInEpoch, st.step, st.learningRate);
        } else {
            st = new TrainingState();
            st.learningRate = o.learningRate();
            if (init != null) {
                Path adamFrom = bestEpochOptimizerState(init.dir());
                if (adamFrom != null) {
                    // As ImageCaptioning.pytorch (which keeps its optimizer when self-critical training starts): Adam's
                    // second moments from cross-entropy training keep the steps at the scale the model was trained with.
                    // A fresh Adam divides the noisy policy gradient by its own small scale, so every parameter moves a
                    // full learning rate each step, mostly noise; from a fresh Adam the reward fell after one epoch.
                    dec = Decoders.load(cfg, adamFrom, true, o.attentionLambda());
                    log.info("continuing the Adam state of the run's best epoch from {}", adamFrom);
                } else {
                    dec = Decoders.load(cfg, init.dir().resolve(ModelBundle.DECODER), false, o.attentionLambda());  // fresh Adam state
                }
                st.scstOptimizer = adamFrom == null ? "fresh Adam" : "Adam state continued from " + adamFrom;
                dec.setLearningRate(o.learningRate());
                log.info("self-critical training of the {} decoder of {} ({} parameters): {} samples per image, {} baseline, learning rate {}",
                        cfg.type().id(), o.scst().init(), dec.parameterCount(), o.scst().samples(), o.scst().baseline().id(), o.learningRate());
            } else {
                dec = Decoders.create(cfg, o.learningRate(), o.attentionLambda(), o.seed());
                log.info("{} decoder: {} parameters", o.decoder().id(), dec.parameterCount());
            }
        }
        Nd4j.getRandom().setSeed(o.seed() + st.step); // dropout masks: repeatable for a given seed and position

        // one feature set for both splits (Flickr8k, Karpathy): its rows are read for the dev images too
        boolean shared = data.devFeatures() == data.trainFeatures();
        int[] featureRows = shared ? java.util.stream.IntStream.concat(java.util.Arrays.stream(rows(train)), java.util.Arrays.stream(rows(dev))).toArray()
                : rows(train);
        BatchBuilder trainBatches = new BatchBuilder(FeatureRows.vectors(data.trainFeatures(), featureRows),
                attention ? FeatureRows.grids(data.trainFeatures(), featureRows) : null);
        BatchBuilder devBatches = shared ? trainBatches
                : new BatchBuilder(FeatureRows.vectors(data.devFeatures(), rows(dev)), attention ? FeatureRows.grids(data.devFeatures(), rows(dev)) : null);
        long stepsThisProcess = 0;
        SelfCritical scst = o.scst() == null ? null : new SelfCritical(train.images().stream().map(ImageCaptions::captions).toList(), vocab,
                o.scst().samples(), o.scst().baseline(), o.maxLength());
        if (scst != null && st.step == 0 && st.history.isEmpty()) {
            Scores s0 = evaluate(dec, dev, devBatches, vocab, DecodeOptions.beam(o.devBeam()).withMaxLength(o.maxLength()));
            st.startScore = s0.get("CIDEr-D");
            log.info(String.format("starting model: dev (beam %d) CIDEr-D %.4f BLEU-4 %.4f", o.devBeam(), s0.get("CIDEr-D"), s0.get("BLEU-4")));
        }

        while (st.epoch <= o.epochs()) {
            List<List<TrainingSet.Pair>> batches = scst == null ? train.batches(o.batchSize(), o.seed(), st.epoch) : null;
            // self-critical batches are of images (each sampled K times): --batch / K images, about --batch captions
            List<int[]> imageBatches = scst == null ? null
                    : imageBatches(train.images().size(), Math.max(1, o.batchSize() / o.scst().samples()), o.seed(), st.epoch);
            int nBatches = scst == null ? batches.size() : imageBatches.size();
            long t0 = System.nanoTime();
            try (Progress pb = Progress.start("epoch " + st.epoch, nBatches, "batches", progress)) {
                pb.resumeAt(st.batchInEpoch);
                double ssProb = o.scheduledSampling().probability(st.epoch);
                if (ssProb > 0 && st.batchInEpoch == 0) log.info("epoch {}: scheduled sampling probability {}", st.epoch, ssProb);
                for (int bi = st.batchInEpoch; bi < nBatches; bi++) {
                    double loss;
                    long tokens;
                    // seeded by position, so a resumed run samples or mixes exactly as the uninterrupted one
                    long positionSeed = o.seed() * 1_000_003L + st.epoch * 100_003L + bi;
                    if (scst != null) {
                        SelfCritical.Step s = scst.step(dec, trainBatches, train, imageBatches.get(bi), positionSeed);
                        loss = s.loss();
                        tokens = s.tokens();
                        st.epochRewardSum += s.meanReward() * s.samples();
                        st.epochSamples += s.samples();
                    } else {
                        var batch = ScheduledSampling.mix(dec, trainBatches.build(batches.get(bi)), ssProb, new java.util.Random(positionSeed));
                        loss = dec.fit(batch);
                        tokens = batch.tokens();
                    }
                    if (!Double.isFinite(loss)) {
                        throw new IOException("training diverged: loss is " + loss + " at epoch " + st.epoch + ", batch " + bi
                                + "; the last good checkpoint (step " + st.step + ") is kept in " + ckpt + ". Try a lower --lr.");
                    }
                    st.epochLossSum += loss * tokens;
                    st.epochTokens += tokens;
                    st.batchInEpoch = bi + 1;
                    st.step++;
                    stepsThisProcess++;
                    onStep.accept(st.step);
                    pb.step();
                    if (st.batchInEpoch % 20 == 0) {
                        double secs = st.epochTrainSeconds + (System.nanoTime() - t0) / 1e9;
                        pb.setExtraMessage(scst != null
                                ? String.format(" reward %.3f, %.1f samples/s", st.epochRewardSum / st.epochSamples, st.epochSamples / secs)
                                : String.format(" loss %.3f, %.0f tok/s", st.epochLossSum / st.epochTokens, st.epochTokens / secs));
                    }
                    if (o.checkpointEvery() > 0 && st.step % o.checkpointEvery() == 0) {
                        st.epochTrainSeconds += (System.nanoTime() - t0) / 1e9;
                        t0 = System.nanoTime();
                        checkpoint(dec, st, ckpt);
                    }
                    if (maxSteps > 0 && stepsThisProcess >= maxSteps) return st;
                }
            }
            st.epochTrainSeconds += (System.nanoTime() - t0) / 1e9;
            endOfEpoch(st, dec, dev, devBatches, vocab, meta, init);
            checkpoint(dec, st, ckpt);
            if (st.finished) break;
        }
        st.finished = true;
        checkpoint(dec, st, ckpt);
        log.info("done: best epoch {} with dev CIDEr-D {}; model in {}", st.bestEpoch, String.format("%.4f", st.bestScore), o.out());
        return st;
    }

    private void endOfEpoch(TrainingState st, CaptionDecoder dec, TrainingSet dev, BatchBuilder devBatches, Vocabulary vocab,
                            FeatureSet.Meta meta, ModelBundle init) throws IOException {
        long t0 = System.nanoTime();
        Scores s = evaluate(dec, dev, devBatches, vocab, DecodeOptions.beam(o.devBeam()).withMaxLength(o.maxLength()));
        double decodeSecs = (System.nanoTime() - t0) / 1e9;
        double loss = st.epochLossSum / Math.max(1, st.epochTokens);
        double tps = st.epochTokens / Math.max(1e-9, st.epochTrainSeconds);
        Map<String, Object> row = st.newHistoryRow();
        row.put("epoch", st.epoch);
        row.put("step", st.step);
        row.put("train_loss", loss);
        row.put("tokens_per_s", tps);
        row.put("train_seconds", st.epochTrainSeconds);
        for (String k : Scores.METRICS) row.put("dev_" + k, s.get(k));
        row.put("decode_seconds", decodeSecs);
        row.put("dev_images", s.images());
        row.put("learning_rate", st.learningRate);
        if (o.scst() != null) {
            Scores g = evaluate(dec, dev, devBatches, vocab, DecodeOptions.greedy().withMaxLength(o.maxLength()));
            double reward = st.epochRewardSum / Math.max(1, st.epochSamples), samplesPerS = st.epochSamples / Math.max(1e-9, st.epochTrainSeconds);
            row.put("dev_greedy_CIDEr-D", g.get("CIDEr-D"));
            row.put("dev_greedy_BLEU-4", g.get("BLEU-4"));
            row.put("train_reward", reward);
            row.put("samples_per_s", samplesPerS);
            log.info(String.format("epoch %d (self-critical): mean sampled reward %.4f, %.1f samples/s; dev greedy CIDEr-D %.4f BLEU-4 %.4f",
                    st.epoch, reward, samplesPerS, g.get("CIDEr-D"), g.get("BLEU-4")));
        }
        log.info(String.format("epoch %d: loss %.4f, %.0f tokens/s, %.0f s; dev (beam %d, %d images) CIDEr-D %.4f BLEU-4 %.4f BLEU-1 %.4f ROUGE-L %.4f, decoded in %.1f s",
                st.epoch, loss, tps, st.epochTrainSeconds, o.devBeam(), s.images(), s.get("CIDEr-D"), s.get("BLEU-4"), s.get("BLEU-1"),
                s.get("ROUGE-L"), decodeSecs));
        if (s.get("CIDEr-D") > st.bestScore) {
            st.bestScore = s.get("CIDEr-D");
            st.bestEpoch = st.epoch;
            st.epochsWithoutImprovement = 0;
            ModelBundle.save(o.out(), dec, vocab, meta.encoder(), meta.weightsSha256(), provenance(st, dev, vocab, meta, init));
            Path initLog = init == null ? null
                    : init.dir().resolve(Files.exists(init.dir().resolve(INIT_LOG_CSV)) ? INIT_LOG_CSV : LOG_CSV);
            if (initLog != null && Files.exists(initLog) && !Files.exists(o.out().resolve(INIT_LOG_CSV))) {
                org.captioner.util.AtomicFiles.write(o.out().resolve(INIT_LOG_CSV), out -> Files.copy(initLog, out));
            }
            log.info("epoch {} is the best so far: saved to {}", st.epoch, o.out());
        } else {
            st.epochsWithoutImprovement++;
            st.learningRate *= o.lrDecay();
            dec.setLearningRate(st.learningRate);
            log.info("no improvement for {} epoch(s): learning rate now {}", st.epochsWithoutImprovement, st.learningRate);
            if (st.epochsWithoutImprovement >= o.patience()) {
                log.info("early stop: {} epochs without improvement", o.patience());
                st.finished = true;
            }
        }
        writeCsv(st);
        st.epoch++;
        st.batchInEpoch = 0;
        st.epochLossSum = 0;
        st.epochTokens = 0;
        st.epochTrainSeconds = 0;
        st.epochRewardSum = 0;
        st.epochSamples = 0;
    }

    /** The epoch's image batches for self-critical training, in an order fixed by (seed, epoch). */
    static List<int[]> imageBatches(int images, int perBatch, long seed, int epoch) {
        List<Integer> order = new ArrayList<>(java.util.stream.IntStream.range(0, images).boxed().toList());
        java.util.Collections.shuffle(order, new java.util.Random(seed * 1_000_003L + epoch));
        List<int[]> out = new ArrayList<>();
        for (int s = 0; s < images; s += perBatch) {
            out.add(order.subList(s, Math.min(images, s + perBatch)).stream().mapToInt(Integer::intValue).toArray());
        }
        return out;
    }

    /** Captions the dev images and scores them. */
    public static Scores evaluate(CaptionDecoder dec, TrainingSet dev, BatchBuilder features, Vocabulary vocab, DecodeOptions opts) {
        int[] rows = rows(dev);
        List<Hypothesis> best = features.caption(new org.captioner.decode.CaptionSearch(dec, vocab), rows, opts, 100);
        List<String> keys = new ArrayList<>(), hyps = new ArrayList<>();
        List<List<String>> refs = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            ImageCaptions ic = dev.images().get(i);
            keys.add(ic.file());
            hyps.add(vocab.text(best.get(i).tokens()));
            refs.add(ic.captions());
        }
        return Scores.of(keys, hyps, refs);
    }

    private void checkpoint(CaptionDecoder dec, TrainingState st, Path ckpt) throws IOException {
        // Parameters go to a file named for the step, then the state that names it is renamed into place: whenever the
        // process dies, state.json and the parameters it names belong to the same step. (Overwriting one decoder.zip
        // before the state let a kill in between pair new parameters with an old position, replaying steps.)
        String name = "decoder-" + st.step + ".zip";
        dec.save(ckpt.resolve(name), true);
        org.captioner.util.FaultPoint.at("train.checkpoint-parameters", st.step);
        st.decoderFile = name;
        st.save(ckpt.resolve(STATE));
        try (var files = Files.list(ckpt)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (!n.equals(name) && (n.equals(ModelBundle.DECODER) || n.startsWith("decoder-") && n.endsWith(".zip"))) Files.delete(f);
            }
        }
    }

    private void writeCsv(TrainingState st) throws IOException {
        if (st.history.isEmpty()) return;
        List<String> cols = new ArrayList<>(st.history.get(0).keySet());
        StringBuilder sb = new StringBuilder(String.join(",", cols)).append('\n');
        for (Map<String, Object> r : st.history) {
            sb.append(cols.stream().map(c -> String.valueOf(r.get(c))).collect(Collectors.joining(","))).append('\n');
        }
        AtomicFiles.writeString(o.out().resolve(LOG_CSV), sb.toString());
    }

    private ObjectNode provenance(TrainingState st, TrainingSet dev, Vocabulary vocab, FeatureSet.Meta meta, ModelBundle init) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("captioner_version", "0.1.0");
        n.put("created", Instant.now().toString());
        n.put("command", commandLine);
        n.put("data", data.description());
        n.put("train_images", o.limitTrainImages() > 0 ? Math.min(o.limitTrainImages(), data.train().size()) : data.train().size());
        n.put("dev_images", dev.images().size());
        n.put("vocabulary_size", vocab.size());
        n.put("encoder", meta.encoder());
        n.put("encoder_weights_sha256", meta.weightsSha256());
        n.put("features", data.trainFeatures().dir().toString());
        n.set("options", JSON.valueToTree(o));
        n.put("objective", init == null ? "cross-entropy (teacher forcing)" : "self-critical sequence training (CIDEr-D reward)");
        if (init != null) {
            ObjectNode from = n.putObject("scst_init");
            from.put("model", init.dir().toString());
            from.put("decoder_sha256", org.captioner.util.Hashing.sha256(init.dir().resolve(ModelBundle.DECODER)));
            from.put("command", init.training().path("command").asText());
            from.put("best_epoch", init.training().path("best_epoch").asInt());
            from.put("dev_CIDEr-D_at_start", st.startScore);
            from.put("optimizer", st.scstOptimizer);
        }
        n.put("best_epoch", st.bestEpoch);
        n.put("epochs_run", st.epoch);
        n.set("history", JSON.valueToTree(st.history));
        n.put("java", System.getProperty("java.version"));
        n.put("cores", Runtime.getRuntime().availableProcessors());
        return n;
    }

    /**
     * The checkpoint of a training run folder given to {@code --init} (cross-entropy or self-critical), when it holds
     * the bundle's own weights (it was written at the end of the best epoch and training stopped there) with their
     * Adam state; null otherwise (a bare bundle such as models/default, or a run that went on past its best epoch).
     */
    static Path bestEpochOptimizerState(Path runDir) throws IOException {
        Path ckpt = runDir.resolve(CHECKPOINT_DIR);
        if (!Files.isRegularFile(ckpt.resolve(STATE))) return null;
        TrainingState s = TrainingState.load(ckpt.resolve(STATE));
        if (s.decoderFile == null || s.batchInEpoch != 0 || s.bestEpoch != s.epoch - 1) return null;
        Path f = ckpt.resolve(s.decoderFile);
        return Files.isRegularFile(f) ? f : null;
    }

    private static List<ImageCaptions> limit(List<ImageCaptions> l, int n) {
        return n > 0 && n < l.size() ? l.subList(0, n) : l;
    }

    private static int[] rows(TrainingSet t) {
        int[] r = new int[t.images().size()];
        for (int i = 0; i < r.length; i++) r[i] = t.featureRow(i);
        return r;
    }
}
