package org.captioner.model;

import org.captioner.encoder.NativeSetup;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The gradient the rnn/lstm decoders optimise is that of the mean cross-entropy per target token (what the
 * PyTorch baseline minimises and clips), checked against central finite differences in double precision.
 * Guards the scaling of DL4J's summed loss gradient in {@link InjectedRnnDecoder#tokenMeanGradient}.
 */
class InjectedRnnGradientTest {
    /** Two captions of different lengths (the second padded for its last step), 5 target tokens. */
    static CaptionBatch batch() {
        INDArray in = Nd4j.create(new double[] {1, 4, 6, 1, 7, 0}, new long[] {2, 1, 3}, 'c');
        INDArray tgt = Nd4j.create(new double[] {4, 6, 2, 7, 2, 0}, new long[] {2, 1, 3}, 'c');
        INDArray mask = Nd4j.create(new double[] {1, 1, 1, 1, 1, 0}, new long[] {2, 3}, 'c');
        INDArray vectors = Nd4j.create(new double[] {0.5, -1, 2, 0.1, 0.3, 1, 0, -0.4, 0.8, 1.5}, new long[] {2, 5}, 'c');
        return new CaptionBatch(in, tgt, mask, vectors, null, 5);
    }

    /** Compares {@code analytic} with central differences of {@code loss} on 60 random parameters. */
    static void checkAgainstFiniteDifferences(InjectedRnnDecoder d, INDArray analytic, java.util.function.DoubleSupplier loss) {
        INDArray params = d.graph().params();
        Random r = new Random(7);
        double eps = 1e-6;
        int checked = 0;
        for (int k = 0; k < 60; k++) {
            long idx = (long) (r.nextDouble() * params.length());
            double orig = params.getDouble(idx);
            params.putScalar(idx, orig + eps);
            double up = loss.getAsDouble();
            params.putScalar(idx, orig - eps);
            double down = loss.getAsDouble();
            params.putScalar(idx, orig);
            double numeric = (up - down) / (2 * eps), a = analytic.getDouble(idx);
            if (Math.abs(numeric) + Math.abs(a) < 1e-9) continue;
            assertEquals(numeric, a, 1e-6 * Math.max(1, Math.abs(numeric)), "parameter " + idx);
            checked++;
        }
        assertTrue(checked > 20, "too few non-zero gradient entries checked: " + checked);
    }

    @ParameterizedTest
    @CsvSource({"RNN,1", "LSTM,1", "RNN,2", "LSTM,3"})
    void gradientIsThatOfTheMeanTokenLoss(DecoderType type, int layers) {
        NativeSetup.init();
        DecoderConfig c = new DecoderConfig(type, 9, 5, 4, 4, 6, 0.0, 10, 0, 0, 0).withLayers(layers);
        InjectedRnnDecoder d = InjectedRnnDecoder.create(c, 1e-3, 3, DataType.DOUBLE);
        CaptionBatch b = batch();
        checkAgainstFiniteDifferences(d, d.tokenMeanGradient(b).gradient().dup(), () -> d.loss(b));
    }

    /** The policy-gradient loss of self-critical training: per-step weights (some negative), dropout on but unused. */
    @ParameterizedTest
    @CsvSource({"RNN,1", "LSTM,1", "LSTM,2"})
    void weightedGradientIsThatOfTheWeightedLoss(DecoderType type, int layers) {
        NativeSetup.init();
        DecoderConfig c = new DecoderConfig(type, 9, 5, 4, 4, 6, 0.5, 10, 0, 0, 0).withLayers(layers);   // dropout between layers too
        InjectedRnnDecoder d = InjectedRnnDecoder.create(c, 1e-3, 3, DataType.DOUBLE);
        CaptionBatch b = batch();
        float[] w = {0.4f, 0.4f, 0.4f, -0.7f, -0.7f, 3f};                 // the padding step's weight must be ignored
        checkAgainstFiniteDifferences(d, d.weightedGradient(b, w).gradient().dup(), () -> weightedLoss(d, b, w));
    }

    /** sum over real steps of w * -log p(target), from the teacher-forced probabilities (no dropout). */
    static double weightedLoss(CaptionDecoder d, CaptionBatch b, float[] w) {
        INDArray p = d.sequenceProbabilities(b);                          // [B,V,T]
        int steps = (int) b.inputs().size(2);
        double loss = 0;
        for (int i = 0; i < b.size(); i++) {
            for (int t = 0; t < steps; t++) {
                if (b.mask().getDouble(i, t) == 0) continue;
                loss -= w[i * steps + t] * Math.log(p.getDouble(i, b.targets().getInt(i, 0, t), t));
            }
        }
        return loss;
    }
}
