package org.captioner.model;

import org.captioner.data.TrainingSet;
import org.captioner.decode.CaptionSearch;
import org.captioner.decode.DecodeOptions;
import org.captioner.decode.Hypothesis;
import org.captioner.encoder.NativeSetup;
import org.captioner.text.Vocabulary;
import org.captioner.train.BatchBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Per decoder: the teacher-forced training graph and step-by-step decoding give the same probabilities. */
class DecoderEquivalenceTest {
    static final int V = 12, D = 16, CELLS = 9, C = 8;

    @BeforeAll
    static void setup() {
        NativeSetup.init();
    }

    /** Random grids [n, CELLS, C], the same for every call with the same seed. */
    static INDArray grids(int n, long seed) {
        Random r = new Random(seed);
        float[] g = new float[n * CELLS * C];
        for (int i = 0; i < g.length; i++) g[i] = (float) r.nextGaussian();
        return org.nd4j.linalg.factory.Nd4j.create(g, new long[] {n, CELLS, C}, 'c');
    }

    static CaptionBatch withGrids(CaptionBatch b, INDArray g) {
        return new CaptionBatch(b.inputs(), b.targets(), b.mask(), b.vectors(), g, b.tokens());
    }

    /** {@code projection}: the attention decoders' context projection (0 = none). */
    static CaptionDecoder decoder(DecoderType t, AttentionMap map, int layers, int projection) {
        DecoderConfig c = new DecoderConfig(t, V, D, 8, 8, 16, 0.5, 10, CELLS, C, 8, map).withLayers(layers).withContextProjection(projection);
        return Decoders.create(c, 1e-2, 7);
    }

    /** Every decoder, the attention one with each attention map and with a context projection, the recurrent ones also stacked. */
    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> decoders() {
        return java.util.stream.Stream.of(
                org.junit.jupiter.params.provider.Arguments.of(DecoderType.RNN, AttentionMap.SOFTMAX, 1, 0),
                org.junit.jupiter.params.provider.Arguments.of(DecoderType.LSTM, AttentionMap.SOFTMAX, 1, 0),
                org.junit.jupiter.params.provider.Arguments.of(DecoderType.GRU, AttentionMap.SOFTMAX, 1, 0),
                org.junit.jupiter.params.provider.Arguments.of(DecoderType.RNN, AttentionMap.SOFTMAX, 2, 0),
                org.junit.jupiter.params.provider.Arguments.of(DecoderType.LSTM, AttentionMap.SOFTMAX, 2, 0),
                org.junit.jupiter.params.provider.Arguments.of(DecoderType.GRU, AttentionMap.SOFTMAX, 3, 0),
                org.junit.jupiter.params.provider.Arguments.of(DecoderType.ATTENTION, AttentionMap.SOFTMAX, 1, 0),
                org.junit.jupiter.params.provider.Arguments.of(DecoderType.ATTENTION, AttentionMap.SPARSEMAX, 1, 0),
                org.junit.jupiter.params.provider.Arguments.of(DecoderType.HARD_ATTENTION, AttentionMap.SOFTMAX, 1, 0),
                org.junit.jupiter.params.provider.Arguments.of(DecoderType.ATTENTION, AttentionMap.SPARSEMAX, 1, 6));
    }

    static float[][] vectors(int n, long seed) {
        Random r = new Random(seed);
        float[][] v = new float[n][D];
        for (float[] row : v) for (int i = 0; i < D; i++) row[i] = (float) r.nextGaussian();
        return v;
    }

    @ParameterizedTest
    @MethodSource("decoders")
    void trainingGraphAndStepwiseDecodingAgree(DecoderType t, AttentionMap map, int layers, int projection) {
        CaptionDecoder dec = decoder(t, map, layers, projection);
        float[][] vec = vectors(3, 1);
        List<TrainingSet.Pair> pairs = List.of(new TrainingSet.Pair(0, 0, new int[] {5, 6, 7, 8}),
                new TrainingSet.Pair(1, 1, new int[] {9, 4}), new TrainingSet.Pair(2, 2, new int[] {10, 11, 4, 5, 6}));
        CaptionBatch batch = withGrids(new BatchBuilder(BatchBuilder.Rows.of(vec), null).build(pairs), grids(3, 9));
        INDArray seq = dec.sequenceProbabilities(batch);                  // [B, V, T]
        DecodingState st = dec.start(batch.vectors(), batch.grids());
        int steps = (int) batch.inputs().size(2);
        for (int s = 0; s < steps; s++) {
            int[] feed = new int[3];
            for (int i = 0; i < 3; i++) feed[i] = batch.inputs().getInt(i, 0, s);
            INDArray p = dec.step(st, feed);                               // [B, V]
            for (int i = 0; i < 3; i++) {
                if (batch.mask().getDouble(i, s) == 0) continue;           // padding steps are not compared
                for (int w = 0; w < V; w++) {
                    assertEquals(seq.getDouble(i, w, s), p.getDouble(i, w), 1e-5, t + " x" + layers + " row " + i + " step " + s + " word " + w);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("decoders")
    void learnsToCaptionDistinctImagesAndBeamSearchFindsIt(DecoderType t, AttentionMap map, int layers, int projection) {
        CaptionDecoder dec = decoder(t, map, layers, projection);
        float[][] vec = vectors(2, 3);
        List<TrainingSet.Pair> pairs = new ArrayList<>();
        for (int rep = 0; rep < 8; rep++) {
            pairs.add(new TrainingSet.Pair(0, 0, new int[] {4, 5, 6}));
            pairs.add(new TrainingSet.Pair(1, 1, new int[] {7, 8, 9, 10}));
        }
        BatchBuilder bb = new BatchBuilder(BatchBuilder.Rows.of(vec), null);
        INDArray g2 = grids(2, 11);
        int[] rows = pairs.stream().mapToInt(TrainingSet.Pair::featureRow).toArray();
        CaptionBatch batch = withGrids(bb.build(pairs), rows3(g2, rows));
        double first = dec.loss(batch), last = 0;
        for (int i = 0; i < 150; i++) last = dec.fit(batch);
        assertTrue(last < first / 5, t + " x" + layers + ": loss " + first + " -> " + last);
        List<List<Hypothesis>> out = new CaptionSearch(dec).generate(bb.build(pairs.subList(0, 2)).vectors(), g2,
                DecodeOptions.beam(3).withNbest(2));
        assertArrayEquals(new int[] {4, 5, 6}, out.get(0).get(0).tokens());
        assertArrayEquals(new int[] {7, 8, 9, 10}, out.get(1).get(0).tokens());
        assertEquals(2, out.get(0).size());
        assertTrue(out.get(0).get(0).logProb() >= out.get(0).get(1).logProb());
        for (List<Hypothesis> l : out) for (Hypothesis h : l) for (int w : h.tokens()) assertNotEquals(Vocabulary.UNK, w);
        List<List<Hypothesis>> greedy = new CaptionSearch(dec).generate(bb.build(pairs.subList(0, 2)).vectors(), g2, DecodeOptions.greedy());
        assertArrayEquals(new int[] {7, 8, 9, 10}, greedy.get(1).get(0).tokens());
        if (t.attends()) {
            // One attention map per generated word plus <end>, each a distribution over the grid cells.
            Hypothesis h = greedy.get(1).get(0);
            assertEquals(h.tokens().length + 1, h.attention().size());
            double sum = 0;
            for (float f : h.attention().get(0)) sum += f;
            assertEquals(1.0, sum, 1e-4);
        }
    }

    static INDArray rows3(INDArray x, int[] rows) {
        long[] s = x.shape();
        return x.reshape(s[0], s[1] * s[2]).getRows(rows).reshape(rows.length, s[1], s[2]);
    }

    /** A model that learned to end on "a" gets another ending from the vocabulary-aware search; other captions stay. */
    @Test
    void beamSearchWithAVocabularyDoesNotEndOnAFunctionWord() {
        Vocabulary vocab = Vocabulary.build(List.of("a dog runs with a", "a man rides a bike"), 1);
        DecoderConfig c = new DecoderConfig(DecoderType.LSTM, vocab.size(), D, 8, 8, 16, 0.0, 10, CELLS, C, 8, AttentionMap.SOFTMAX);
        CaptionDecoder dec = Decoders.create(c, 1e-2, 7);
        float[][] vec = vectors(2, 3);
        int[] bad = vocab.encode("a dog runs with a", 10), good = vocab.encode("a man rides a bike", 10);
        List<TrainingSet.Pair> pairs = new ArrayList<>();
        for (int rep = 0; rep < 8; rep++) {
            pairs.add(new TrainingSet.Pair(0, 0, bad));
            pairs.add(new TrainingSet.Pair(1, 1, good));
        }
        BatchBuilder bb = new BatchBuilder(BatchBuilder.Rows.of(vec), null);
        CaptionBatch batch = bb.build(pairs);
        for (int i = 0; i < 200; i++) dec.fit(batch);
        INDArray v = bb.build(pairs.subList(0, 2)).vectors();
        for (DecodeOptions o : List.of(DecodeOptions.beam(3), DecodeOptions.greedy())) {
            List<List<Hypothesis>> plain = new CaptionSearch(dec).generate(v, null, o);
            assertArrayEquals(bad, plain.get(0).get(0).tokens(), "the model learned the bad ending");
            List<List<Hypothesis>> ruled = new CaptionSearch(dec, vocab).generate(v, null, o);
            List<String> words = vocab.decode(ruled.get(0).get(0).tokens());
            assertFalse(Vocabulary.FUNCTION_WORDS.contains(words.get(words.size() - 1)), "ends on a function word: " + words);
            assertArrayEquals(good, ruled.get(1).get(0).tokens(), "a good caption is untouched");
        }
    }
}
