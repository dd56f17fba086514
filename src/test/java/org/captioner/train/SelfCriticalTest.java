package org.captioner.train;

import org.captioner.data.CaptionDataset;
import org.captioner.data.ImageCaptions;
import org.captioner.data.TrainingSet;
import org.captioner.encoder.NativeSetup;
import org.captioner.features.FeatureSet;
import org.captioner.model.CaptionDecoder;
import org.captioner.model.DecoderConfig;
import org.captioner.model.DecoderType;
import org.captioner.model.Decoders;
import org.captioner.testing.TinyData;
import org.captioner.text.Vocabulary;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On the tiny three-scene data set, a decoder barely trained with cross-entropy (one pass) is fine-tuned by
 * self-critical steps alone: the expected CIDEr-D reward of its sampled captions on the training images (what the
 * steps maximise) must rise.
 */
class SelfCriticalTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void setup() {
        NativeSetup.init();
    }

    @ParameterizedTest(name = "{0}, {1} baseline")
    @CsvSource({"lstm, mean", "rnn, mean", "attention, mean", "lstm, greedy", "gru, mean", "hard-attention, mean"})
    void selfCriticalStepsRaiseTheTrainingReward(String decoder, String baseline) throws Exception {
        TinyData.write(dir, 24, 3);
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            List<ImageCaptions> images = CaptionDataset.load(dir.resolve("captions.tsv")).images();
            Vocabulary vocab = Vocabulary.build(images.stream().flatMap(i -> i.captions().stream()).toList(), 1);
            TrainingSet train = new TrainingSet(images, fs, vocab, 20);
            DecoderType type = DecoderType.parse(decoder);
            boolean att = type.attends();
            int[] rows = IntStream.range(0, train.images().size()).map(train::featureRow).toArray();
            BatchBuilder bb = new BatchBuilder(FeatureRows.vectors(fs, rows), att ? FeatureRows.grids(fs, rows) : null);
            DecoderConfig c = DecoderConfig.defaults(type, vocab.size(), TinyData.DIM, TinyData.SIDE * TinyData.SIDE, TinyData.CHANNELS)
                    .withSizes(16, 32, 0.0, 20);
            CaptionDecoder dec = Decoders.create(c, 5e-3, 7);
            for (List<TrainingSet.Pair> b : train.batches(8, 1, 1).subList(0, 9)) dec.fit(bb.build(b));   // a weak start
            SelfCritical scst = new SelfCritical(images.stream().map(ImageCaptions::captions).toList(), vocab, 5,
                    SelfCritical.Baseline.parse(baseline), 20);
            int[] all = IntStream.range(0, train.images().size()).toArray();
            double before = sampledReward(scst, dec, bb, train, all);
            dec.setLearningRate(5e-3);
            for (int s = 0; s < 60; s++) scst.step(dec, bb, train, new int[] {(2 * s) % 24, (2 * s + 1) % 24, (2 * s + 7) % 24}, s);
            double after = sampledReward(scst, dec, bb, train, all);
            System.out.printf("self-critical (%s, %s baseline): expected training reward %.3f -> %.3f%n", decoder, baseline, before, after);
            assertTrue(after > before + 0.15, decoder + ": reward " + before + " -> " + after);
        }
    }

    /** The objective: the mean CIDEr-D of 10 sampled captions per training image (fixed seed). */
    static double sampledReward(SelfCritical scst, CaptionDecoder dec, BatchBuilder bb, TrainingSet train, int[] images) {
        int[] rows = java.util.Arrays.stream(images).map(train::featureRow).toArray();
        var f = bb.features(rows);
        var drawn = new org.captioner.decode.CaptionSearch(dec).generate(f.vectors(), f.grids(),
                org.captioner.decode.DecodeOptions.greedy().sampling(1.0, 0, 99).withNbest(10));
        double sum = 0;
        for (int i = 0; i < images.length; i++) for (var h : drawn.get(i)) sum += scst.reward(images[i], h.tokens());
        return sum / (10.0 * images.length);
    }
}
