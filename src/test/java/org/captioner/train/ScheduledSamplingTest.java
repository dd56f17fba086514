package org.captioner.train;

import org.captioner.data.CaptionDataset;
import org.captioner.encoder.NativeSetup;
import org.captioner.features.FeatureSet;
import org.captioner.model.CaptionBatch;
import org.captioner.model.DecoderConfig;
import org.captioner.model.DecoderType;
import org.captioner.model.Decoders;
import org.captioner.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ScheduledSamplingTest {
    @Test
    void scheduleRampsUpFromTheStartEpochToTheMaximum() {
        ScheduledSampling s = new ScheduledSampling(3, 2, 0.05, 0.12);
        assertEquals(0, s.probability(1));
        assertEquals(0, s.probability(2));
        assertEquals(0.05, s.probability(3), 1e-12);
        assertEquals(0.05, s.probability(4), 1e-12);
        assertEquals(0.10, s.probability(5), 1e-12);
        assertEquals(0.12, s.probability(9), 1e-12);
        assertEquals(0, ScheduledSampling.OFF.probability(50));
        assertThrows(IllegalArgumentException.class, () -> new ScheduledSampling(1, 0, 0.1, 0.2));
        assertThrows(IllegalArgumentException.class, () -> new ScheduledSampling(1, 1, 0.1, 1.5));
    }

    @Test
    void mixingReplacesOnlyRealInputsAfterStartAndKeepsTargets() {
        NativeSetup.init();
        DecoderConfig c = new DecoderConfig(DecoderType.LSTM, 12, 5, 4, 4, 6, 0.0, 10, 0, 0, 0);
        var dec = Decoders.create(c, 1e-3, 1.0, 3);
        // caption 1: <start> 4 5 6; caption 2: <start> 7 then padding
        INDArray in = Nd4j.create(new float[] {1, 4, 5, 6, 1, 7, 0, 0}, new long[] {2, 1, 4}, 'c');
        INDArray tgt = Nd4j.create(new float[] {4, 5, 6, 2, 7, 2, 0, 0}, new long[] {2, 1, 4}, 'c');
        INDArray mask = Nd4j.create(new float[] {1, 1, 1, 1, 1, 1, 0, 0}, new long[] {2, 4}, 'c');
        CaptionBatch b = new CaptionBatch(in, tgt, mask, Nd4j.rand(2, 5), null, 6);

        assertSame(b, ScheduledSampling.mix(dec, b, 0.0, new Random(1)));
        int changed = 0;
        for (int seed = 0; seed < 20; seed++) {
            CaptionBatch m = ScheduledSampling.mix(dec, b, 1.0, new Random(seed));
            float[] mi = m.inputs().dup('c').data().asFloat();
            assertEquals(1, mi[0]);                       // <start> stays
            assertEquals(1, mi[4]);
            assertEquals(0, mi[6]);                       // padding stays
            assertEquals(0, mi[7]);
            for (float w : mi) assertTrue(w == 0 || w == 1 || w >= 3, "a sampled word is never <pad>/<start>/<end>: " + w);
            for (int i : new int[] {1, 2, 3, 5}) if (mi[i] != in.getFloat(i / 4, 0, i % 4)) changed++;
            assertEquals(tgt, m.targets());
            assertEquals(b.tokens(), m.tokens());
        }
        assertTrue(changed > 40, "with probability 1 nearly every real input is the model's word: " + changed + " of 80");
        // the same seed mixes the same way (resumed runs repeat themselves)
        assertEquals(ScheduledSampling.mix(dec, b, 0.5, new Random(9)).inputs(), ScheduledSampling.mix(dec, b, 0.5, new Random(9)).inputs());
    }

    /** Every decoder trains with scheduled sampling (the model's own words fed back), and learns the tiny set. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = DecoderType.class, names = {"LSTM", "GRU", "HARD_ATTENTION"})
    void trainingWithScheduledSamplingRuns(DecoderType type, @TempDir Path dir) throws Exception {
        NativeSetup.init();
        TinyData.write(dir, 30, 1);
        Path out = dir.resolve("model");
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            CaptionDataset ds = CaptionDataset.load(dir.resolve("captions.tsv"));
            var data = new Trainer.Data(ds.images(), ds.images().subList(0, 12), fs, fs, "tiny");
            var o = new TrainOptions(type, out, 4, 8, 5e-3, 0.8, 5, 1, 20, 42, 0, 3, 16, 32, 0.0, 0, 0, 1.0,
                    new ScheduledSampling(2, 1, 0.25, 0.5));
            TrainingState st = new Trainer(o, data, "test").run(false);
            assertTrue(st.finished && st.bestScore > 0.5, type + ": dev CIDEr-D " + st.bestScore);
            assertEquals(type, org.captioner.model.ModelBundle.load(out).config().type());
        }
    }
}
