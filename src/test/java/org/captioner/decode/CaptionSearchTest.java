package org.captioner.decode;

import org.captioner.data.TrainingSet;
import org.captioner.encoder.NativeSetup;
import org.captioner.model.AttentionMap;
import org.captioner.model.CaptionBatch;
import org.captioner.model.CaptionDecoder;
import org.captioner.model.DecoderConfig;
import org.captioner.model.DecoderType;
import org.captioner.model.Decoders;
import org.captioner.text.Vocabulary;
import org.captioner.train.BatchBuilder;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class CaptionSearchTest {
    @Test
    void repeatingWordsAreThoseThatFollowedTheLastTwoBefore() {
        assertArrayEquals(new int[] {9}, CaptionSearch.repeatingWords(new int[] {4, 5, 9, 4, 5}));
        assertArrayEquals(new int[] {9, 7}, CaptionSearch.repeatingWords(new int[] {4, 5, 9, 4, 5, 7, 4, 5}));
        assertArrayEquals(new int[0], CaptionSearch.repeatingWords(new int[] {4, 5, 9, 5, 4}));
        assertArrayEquals(new int[0], CaptionSearch.repeatingWords(new int[] {4, 5}));
    }

    /** A model that learned a caption repeating "in a red" writes it again without trigram blocking, and not with it. */
    @Test
    void trigramBlockingStopsALearnedRepetition() {
        NativeSetup.init();
        String text = "a man in a red shirt in a red hat";
        Vocabulary vocab = Vocabulary.build(List.of(text), 1);
        DecoderConfig c = new DecoderConfig(DecoderType.LSTM, vocab.size(), 4, 8, 8, 32, 0.0, 16, 0, 0, 0, AttentionMap.SOFTMAX);
        CaptionDecoder dec = Decoders.create(c, 1e-2, 7);
        int[] ids = vocab.encode(text, 16);
        List<TrainingSet.Pair> pairs = new ArrayList<>();
        for (int i = 0; i < 4; i++) pairs.add(new TrainingSet.Pair(0, 0, ids));
        BatchBuilder bb = new BatchBuilder(BatchBuilder.Rows.of(new float[][] {{1, 0, 0, 1}}), null);
        CaptionBatch batch = bb.build(pairs);
        for (int i = 0; i < 300; i++) dec.fit(batch);
        INDArray v = bb.build(pairs.subList(0, 1)).vectors();
        int[] plain = new CaptionSearch(dec).generate(v, null, DecodeOptions.beam(3)).get(0).get(0).tokens();
        assertArrayEquals(ids, plain, "the model learned the repetition");
        int[] blocked = new CaptionSearch(dec).generate(v, null, DecodeOptions.beam(3).withBlockTrigrams(true)).get(0).get(0).tokens();
        Set<List<Integer>> seen = new HashSet<>();
        for (int p = 0; p + 2 < blocked.length; p++) {
            assertTrue(seen.add(List.of(blocked[p], blocked[p + 1], blocked[p + 2])), "trigram repeated: " + vocab.decode(blocked));
        }
        assertEquals(vocab.decode(ids).subList(0, 7), vocab.decode(blocked).subList(0, 7), "the caption up to the repeat is kept");
    }
}
