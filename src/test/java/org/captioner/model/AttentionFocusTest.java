package org.captioner.model;

import org.captioner.encoder.NativeSetup;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With either attention map, and the regulariser off (the default) or at the tutorial's lambda 1 averaged over cells,
 * attention learns to look where the answer is:
 * a synthetic task whose word at step t is written only in grid cell t (cell 3 holds a distractor word and the
 * image vector says nothing), so only attending to the right cell predicts the word. Before the regulariser was
 * averaged over cells, it outweighed the cross-entropy and held attention near uniform.
 */
class AttentionFocusTest {
    static final int WORDS = 6, FIRST = 4, STEPS = 3, CELLS = 4, CH = WORDS + CELLS, N = 64;

    @BeforeAll
    static void setup() {
        NativeSetup.init();
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{2} {1}, lambda {0}")
    @org.junit.jupiter.params.provider.CsvSource({"0.0, softmax, attention", "1.0, softmax, attention", "0.0, sparsemax, attention",
            "1.0, sparsemax, attention", "0.0, softmax, hard-attention"})
    void attentionPutsMostMassOnTheCellHoldingTheWord(double lambda, String map, String type) {
        DecoderConfig c = new DecoderConfig(DecoderType.parse(type), FIRST + WORDS, CH, 16, 16, 32, 0.0, 5, CELLS, CH, 16,
                AttentionMap.parse(map));
        AttentionDecoder d = AttentionDecoder.create(c, 1e-2, lambda, 7);
        Random r = new Random(5);
        double first = d.fit(batch(r)), last = first;
        for (int it = 1; it < 250; it++) last = d.fit(batch(r));
        assertTrue(last < 0.2 * first, "the task is learnt: loss " + first + " -> " + last);
        // hard attention: also when each step reads only its most likely cell (how it decodes)
        double decodingLoss = d.loss(batch(new Random(98)));
        assertTrue(decodingLoss < 0.2 * first, "loss with the decoding rule " + decodingLoss + " (first " + first + ")");
        // teacher-forced decoding of fresh examples: the weight on cell t at step t
        Random test = new Random(99);
        int[][] words = new int[N][];
        INDArray grid = grid(test, words);
        DecodingState s = d.start(Nd4j.zeros(N, CH), grid);
        double right = 0;
        int[] tokens = new int[N];
        java.util.Arrays.fill(tokens, 1);                           // <start>
        for (int t = 0; t < STEPS; t++) {
            d.step(s, tokens);
            INDArray p = s.lastAttention();                         // [N, CELLS]
            for (int i = 0; i < N; i++) {
                right += p.getDouble(i, t);
                tokens[i] = words[i][t];
            }
        }
        double mean = right / (N * STEPS);
        System.out.printf("synthetic attention (" + type + ", " + map + ", lambda " + lambda + "): mean weight on the cell holding the word %.3f (uniform %.3f)%n", mean, 1.0 / CELLS);
        assertTrue(mean > 0.6, "attention on the right cell " + mean + " (uniform " + 1.0 / CELLS + ")");
    }

    /**
     * Grid [N, CELLS, CH]: cell t holds word t, the last cell a distractor word: channels 0-5 the word (one-hot +
     * noise), 6-9 the cell's position (one-hot), as a CNN's cells differ by where they are, not only by content.
     */
    static INDArray grid(Random r, int[][] words) {
        float[] g = new float[N * CELLS * CH];
        for (int i = 0; i < N; i++) {
            words[i] = new int[STEPS];
            for (int t = 0; t < CELLS; t++) {
                int w = r.nextInt(WORDS);
                if (t < STEPS) words[i][t] = FIRST + w;
                for (int k = 0; k < WORDS; k++) g[(i * CELLS + t) * CH + k] = (k == w ? 1f : 0f) + 0.1f * (float) r.nextGaussian();
                g[(i * CELLS + t) * CH + WORDS + t] = 1f;
            }
        }
        return Nd4j.create(g, new long[] {N, CELLS, CH}, 'c');
    }

    static CaptionBatch batch(Random r) {
        int[][] words = new int[N][];
        INDArray grid = grid(r, words);
        int steps = STEPS + 1;
        float[] in = new float[N * steps], tgt = new float[N * steps];
        for (int i = 0; i < N; i++) {
            in[i * steps] = 1;                                      // <start> w0 w1 w2
            for (int t = 0; t < STEPS; t++) {
                in[i * steps + t + 1] = words[i][t];
                tgt[i * steps + t] = words[i][t];
            }
            tgt[i * steps + STEPS] = 2;                             // ... <end>
        }
        return new CaptionBatch(Nd4j.create(in, new long[] {N, 1, steps}, 'c'), Nd4j.create(tgt, new long[] {N, 1, steps}, 'c'),
                Nd4j.ones(N, steps), Nd4j.zeros(N, CH), grid, (long) N * steps);
    }
}
