package org.captioner.train;

import org.captioner.data.CaptionDataset;
import org.captioner.encoder.NativeSetup;
import org.captioner.features.FeatureSet;
import org.captioner.model.DecoderType;
import org.captioner.model.ModelBundle;
import org.captioner.testing.TinyData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TrainerTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void setup() {
        NativeSetup.init();
    }

    TrainOptions options(Path out, int epochs, double dropout, int checkpointEvery) {
        return new TrainOptions(DecoderType.LSTM, out, epochs, 8, 5e-3, 0.8, 5, 1, 20, 42, checkpointEvery, 3,
                16, 32, dropout, 0, 0, 1.0, ScheduledSampling.OFF);
    }

    Trainer.Data data(FeatureSet fs) throws IOException {
        CaptionDataset ds = CaptionDataset.load(dir.resolve("captions.tsv"));
        return new Trainer.Data(ds.images(), ds.images().subList(0, 12), fs, fs, "tiny");
    }

    @Test
    void trainsSavesBestBundleAndLogs() throws Exception {
        TinyData.write(dir, 30, 1);
        Path out = dir.resolve("model");
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            TrainingState st = new Trainer(options(out, 6, 0.0, 0), data(fs), "test").run(false);
            assertTrue(st.finished);
            assertTrue(st.bestScore > 1.0, "dev CIDEr-D " + st.bestScore);
            List<String> csv = Files.readAllLines(out.resolve(Trainer.LOG_CSV));
            assertTrue(csv.get(0).startsWith("epoch,step,train_loss,tokens_per_s"), csv.get(0));
            assertEquals(7, csv.size());
            double first = Double.parseDouble(csv.get(1).split(",")[2]), last = Double.parseDouble(csv.get(6).split(",")[2]);
            assertTrue(last < first, "loss " + first + " -> " + last);
            ModelBundle b = ModelBundle.load(out);
            assertEquals("squeezenet", b.encoder());
            assertEquals("tiny-fixture", b.encoderWeightsSha256());
            assertEquals(st.bestEpoch, b.training().get("best_epoch").asInt());
            // A second run into the same folder must not silently overwrite it.
            IOException e = assertThrows(IOException.class, () -> new Trainer(options(out, 6, 0.0, 0), data(fs), "test").run(false));
            assertTrue(e.getMessage().contains("--resume"), e.getMessage());
        }
    }

    @Test
    void attentionTrainsWhenDevImagesShareTheTrainFeatureSet() throws Exception {
        // Flickr8k's layout: one features folder for all images, dev images disjoint from train ones; the dev
        // decoding after the epoch needs their grids too (it once found them unloaded)
        TinyData.write(dir, 24, 5);
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            CaptionDataset ds = CaptionDataset.load(dir.resolve("captions.tsv"));
            var data = new Trainer.Data(ds.images().subList(8, 24), ds.images().subList(0, 8), fs, fs, "tiny");
            TrainOptions o = new TrainOptions(DecoderType.ATTENTION, dir.resolve("att"), 1, 8, 5e-3, 0.8, 5, 1, 20, 42, 0, 3,
                    16, 32, 0.0, 0, 0, 1.0, ScheduledSampling.OFF);
            TrainingState st = new Trainer(o, data, "test").run(false);
            assertTrue(st.finished);
            List<String> csv = Files.readAllLines(dir.resolve("att").resolve(Trainer.LOG_CSV));
            assertEquals(2, csv.size());
            assertTrue(csv.get(1).endsWith(",8," + csv.get(1).substring(csv.get(1).lastIndexOf(',') + 1)), "8 dev images decoded: " + csv.get(1));
        }
    }

    @Test
    void interruptedRunResumesFromCheckpointAndMatchesAnUninterruptedOne() throws Exception {
        TinyData.write(dir, 24, 2);
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            Path a = dir.resolve("a"), b = dir.resolve("b");
            new Trainer(options(a, 2, 0.0, 2), data(fs), "test").run(false);

            Trainer interrupted = new Trainer(options(b, 2, 0.0, 2), data(fs), "test");
            interrupted.maxSteps(5); // "killed" after step 5; the last checkpoint is step 4
            interrupted.run(false);
            TrainingState saved = TrainingState.load(b.resolve("checkpoint/state.json"));
            assertEquals(4, saved.step);
            TrainingState done = new Trainer(options(b, 2, 0.0, 2), data(fs), "test").run(true);
            assertTrue(done.finished);

            INDArray pa = params(a);
            INDArray pb = params(b);
            assertEquals(pa.length(), pb.length());
            assertTrue(pa.equalsWithEps(pb, 1e-4), "resumed run diverged from the uninterrupted one");
            assertEquals(TrainingState.load(a.resolve("checkpoint/state.json")).step, done.step);
        }
    }

    @Test
    void finishedRunContinuesWhenEpochsAreRaisedAsOneLongerRun() throws Exception {
        TinyData.write(dir, 24, 2);
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            Path a = dir.resolve("a"), b = dir.resolve("b");
            TrainingState longRun = new Trainer(options(a, 3, 0.0, 0), data(fs), "test").run(false);
            new Trainer(options(b, 2, 0.0, 0), data(fs), "test").run(false);
            // the same --epochs: nothing to do
            TrainingState same = new Trainer(options(b, 2, 0.0, 0), data(fs), "test").run(true);
            assertEquals(3, same.epoch);
            TrainingState extended = new Trainer(options(b, 3, 0.0, 0), data(fs), "test").run(true);
            assertTrue(extended.finished);
            assertEquals(longRun.step, extended.step);
            assertEquals(3, extended.history.size());
            assertTrue(params(a).equalsWithEps(params(b), 1e-4), "the extended run differs from one run of 3 epochs");
            assertEquals(4, Files.readAllLines(b.resolve(Trainer.LOG_CSV)).size());

            // extended again at an explicit learning rate (--lr with --resume): the new epoch runs at it
            TrainingState slower = new Trainer(options(b, 4, 0.0, 0), data(fs), "test").resumeAtLearningRate(1e-4).run(true);
            assertEquals(4, slower.history.size());
            assertEquals(1e-4, ((Number) slower.history.get(3).get("learning_rate")).doubleValue(), 1e-12);
        }
    }

    /** gru and stacked decoders train, are bundled with their layer count, and resume exactly (any decoder type). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"GRU,1", "GRU,2", "LSTM,2"})
    void gruAndStackedDecodersTrainBundleAndResume(DecoderType type, int layers) throws Exception {
        TinyData.write(dir, 24, 2);
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            java.util.function.Function<Path, TrainOptions> opts = out -> new TrainOptions(type, out, 3, 8, 5e-3, 0.8, 5, 1, 20, 42, 2, 3,
                    16, 32, 0.0, 0, 0, 1.0, ScheduledSampling.OFF, org.captioner.model.AttentionMap.SOFTMAX, null, layers);
            Path a = dir.resolve("a"), b = dir.resolve("b");
            TrainingState st = new Trainer(opts.apply(a), data(fs), "test").run(false);
            List<String> csv = Files.readAllLines(a.resolve(Trainer.LOG_CSV));
            double first = Double.parseDouble(csv.get(1).split(",")[2]), last = Double.parseDouble(csv.get(3).split(",")[2]);
            assertTrue(last < first, type + " x" + layers + ": loss " + first + " -> " + last);
            ModelBundle m = ModelBundle.load(a);
            assertEquals(type, m.config().type());
            assertEquals(layers, m.config().layers());
            assertEquals(layers, m.training().get("options").get("layers").asInt());

            Trainer interrupted = new Trainer(opts.apply(b), data(fs), "test");
            interrupted.maxSteps(5);                                        // last checkpoint: step 4
            interrupted.run(false);
            TrainingState done = new Trainer(opts.apply(b), data(fs), "test").run(true);
            assertEquals(st.step, done.step);
            INDArray pa = checkpointProbabilities(a), pb = checkpointProbabilities(b);
            assertTrue(pa.equalsWithEps(pb, 1e-5), "resumed " + type + " run diverged from the uninterrupted one");
        }
    }

    /** Next-word probabilities of a run's last checkpoint for fixed image vectors and a first word: any decoder type. */
    static INDArray checkpointProbabilities(Path run) throws IOException {
        TrainingState st = TrainingState.load(run.resolve("checkpoint/state.json"));
        var cfg = ModelBundle.load(run).config();
        var dec = org.captioner.model.Decoders.load(cfg, run.resolve("checkpoint").resolve(st.decoderFile), false);
        INDArray v = Nd4j.linspace(-1, 1, 2L * cfg.imageDim(), org.nd4j.linalg.api.buffer.DataType.FLOAT).reshape(2, cfg.imageDim());
        var s = dec.start(v, null);
        dec.step(s, new int[] {1, 1});
        return dec.step(s, new int[] {4, 5});
    }

    @Test
    void selfCriticalFineTuningStartsFromAModelRecordsItAndResumes() throws Exception {
        TinyData.write(dir, 24, 4);
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            Path ce = dir.resolve("ce");
            new Trainer(options(ce, 2, 0.0, 0), data(fs), "ce").run(false);
            java.util.function.Function<Path, TrainOptions> scst = out -> new TrainOptions(DecoderType.RNN /* ignored: from --init */, out, 2, 10,
                    1e-3, 0.8, 5, 1, 20, 42, 2, 3, 16, 32, 0.0, 0, 0, 1.0, ScheduledSampling.OFF,
                    org.captioner.model.AttentionMap.SPARSEMAX, new ScstOptions(ce, 5, SelfCritical.Baseline.MEAN));
            Path a = dir.resolve("scst-a"), b = dir.resolve("scst-b");
            TrainingState st = new Trainer(scst.apply(a), data(fs), "train --scst").run(false);
            assertTrue(st.finished);
            ModelBundle m = ModelBundle.load(a);
            assertEquals(DecoderType.LSTM, m.config().type(), "the decoder of --init");
            assertEquals("self-critical sequence training (CIDEr-D reward)", m.training().path("objective").asText());
            assertEquals(ce.toString(), m.training().path("scst_init").path("model").asText());
            assertTrue(Double.isFinite(m.training().path("scst_init").path("dev_CIDEr-D_at_start").asDouble()));
            assertEquals(5, m.training().path("options").path("scst").path("samples").asInt());
            // a run folder whose checkpoint is its best epoch hands its Adam state on; a bare bundle copy cannot
            Path adam = Trainer.bestEpochOptimizerState(ce);
            TrainingState ceState = TrainingState.load(ce.resolve("checkpoint/state.json"));
            assertEquals(ceState.bestEpoch == ceState.epoch - 1, adam != null, "Adam state handed on iff the checkpoint is the best epoch");
            assertEquals(adam == null ? "fresh Adam" : "Adam state continued from " + adam, m.training().path("scst_init").path("optimizer").asText());
            Path bare = dir.resolve("bare");
            Files.createDirectories(bare);
            for (String f : new String[] {ModelBundle.DECODER, ModelBundle.VOCAB, "config.json"}) Files.copy(ce.resolve(f), bare.resolve(f));
            assertEquals(null, Trainer.bestEpochOptimizerState(bare));
            List<String> csv = Files.readAllLines(a.resolve(Trainer.LOG_CSV));
            assertTrue(csv.get(0).contains("dev_greedy_CIDEr-D") && csv.get(0).contains("train_reward") && csv.get(0).contains("samples_per_s"), csv.get(0));
            assertEquals(3, csv.size());
            assertEquals(Files.readAllLines(ce.resolve(Trainer.LOG_CSV)), Files.readAllLines(a.resolve(Trainer.INIT_LOG_CSV)),
                    "the starting model's cross-entropy log travels with the bundle");
            // fine-tuning the fine-tuned model again keeps the cross-entropy log, not the first SCST run's
            Path again = dir.resolve("scst-again");
            new Trainer(new TrainOptions(DecoderType.RNN, again, 1, 10, 1e-3, 0.8, 5, 1, 20, 42, 2, 3, 16, 32, 0.0, 0, 0, 1.0,
                    ScheduledSampling.OFF, org.captioner.model.AttentionMap.SPARSEMAX, new ScstOptions(a, 5, SelfCritical.Baseline.MEAN)),
                    data(fs), "train --scst").run(false);
            assertEquals(Files.readAllLines(ce.resolve(Trainer.LOG_CSV)), Files.readAllLines(again.resolve(Trainer.INIT_LOG_CSV)));

            // killed after step 3 (last checkpoint: step 2), resumed: the same parameters as the uninterrupted run
            Trainer interrupted = new Trainer(scst.apply(b), data(fs), "train --scst");
            interrupted.maxSteps(3);
            interrupted.run(false);
            assertEquals(2, TrainingState.load(b.resolve("checkpoint/state.json")).step);
            new Trainer(scst.apply(b), data(fs), "train --scst").run(true);
            assertTrue(params(a).equalsWithEps(params(b), 1e-4), "resumed self-critical run diverged from the uninterrupted one");
        }
    }

    static INDArray params(Path run) throws IOException {
        return org.captioner.testing.Checkpoints.params(run);
    }

    @Test
    void resumeWithoutCheckpointAndNaNAreClearErrors() throws Exception {
        TinyData.write(dir, 12, 3);
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            IOException e = assertThrows(IOException.class, () -> new Trainer(options(dir.resolve("x"), 1, 0, 0), data(fs), "t").run(true));
            assertTrue(e.getMessage().contains("nothing to resume"), e.getMessage());
        }
        // Corrupt features (NaN) make the loss NaN: training stops with a clear message and keeps the last checkpoint.
        try (var w = org.captioner.features.NpyWriter.open(dir.resolve("features/vectors.npy"), org.captioner.features.NpyWriter.Dtype.FLOAT32,
                new long[] {TinyData.DIM}, 0)) {
            float[] nanRow = new float[TinyData.DIM];
            java.util.Arrays.fill(nanRow, Float.NaN);
            for (int i = 0; i < 12; i++) w.append(nanRow);
        }
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            Exception nan = assertThrows(IOException.class, () -> new Trainer(options(dir.resolve("nan"), 3, 0, 1), data(fs), "t").run(false));
            assertTrue(nan.getMessage().contains("diverged") && nan.getMessage().contains("last good checkpoint"), nan.getMessage());
        }
    }

    @Test
    void imagesWithoutFeaturesAreAnErrorWhenNoneHaveThem() throws Exception {
        TinyData.write(dir, 6, 4);
        Files.writeString(dir.resolve("other.tsv"), "nothere.jpg\ta cat\n");
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            CaptionDataset other = CaptionDataset.load(dir.resolve("other.tsv"));
            Trainer.Data d = new Trainer.Data(other.images(), other.images(), fs, fs, "x");
            IOException e = assertThrows(IOException.class, () -> new Trainer(options(dir.resolve("m"), 1, 0, 0), d, "t").run(false));
            assertTrue(e.getMessage().contains("none of the 1 images has features"), e.getMessage());
        }
    }
}
