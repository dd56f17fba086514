package org.captioner.model;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

/**
 * DL4J's sparse cross-entropy with a weight on each target token's loss and gradient, for
 * {@link InjectedRnnDecoder#fitWeighted}: installed on the output layer for one step, then the plain loss is put
 * back. Why not real-valued label masks: DL4J applies the label mask to the output layer's gradient and again to the
 * error it passes down, so a mask w weighs the recurrent layers' gradient by w^2 (exact only for 0/1 masks).
 * Rows are DL4J's 2-d view of [B,V,T] sequences, time-major (row t*B + i), as {@code TimeSeriesUtils} reshapes them.
 */
final class WeightedTokenLoss extends LossSparseMCXENT {
    private final INDArray rowWeights;   // [T*B, 1]

    WeightedTokenLoss(INDArray rowWeights) {
        this.rowWeights = rowWeights;
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return super.computeGradient(labels, preOutput, activationFn, mask).muliColumnVector(rowWeights.castTo(preOutput.dataType()));
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return super.computeScoreArray(labels, preOutput, activationFn, mask).muliColumnVector(rowWeights.castTo(preOutput.dataType()));
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask, boolean average) {
        double sum = computeScoreArray(labels, preOutput, activationFn, mask).sumNumber().doubleValue();
        return average ? sum / labels.size(0) : sum;
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                                                         boolean average) {
        return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average), computeGradient(labels, preOutput, activationFn, mask));
    }
}
