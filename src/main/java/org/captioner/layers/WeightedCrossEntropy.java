package org.captioner.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Softmax over the vocabulary and a weighted cross-entropy: {@code loss = sum_r w_r * -log p_r(target_r)}.
 * With w_r = 1/tokens on real steps it is the mean per target token (PyTorch's CrossEntropyLoss); with a caption's
 * advantage over its length it is self-critical training's policy-gradient loss. Rows with mask 0 (padding) count
 * for nothing. Shapes: logits [R, V], targets [R], weights and mask [R].
 */
public final class WeightedCrossEntropy {
    private WeightedCrossEntropy() {
    }

    /** probabilities [R, V]; loss; logProbability [R] of each row's target (0 on padding). */
    public record Output(INDArray probabilities, double loss, double[] logProbability) {
    }

    /** Softmax of {@code logits} (in place) and the loss. */
    public static Output forward(INDArray logits, int[] targets, double[] weights, float[] mask) {
        INDArray probs = Transforms.softmax(logits, false);
        double loss = 0;
        double[] logp = new double[targets.length];
        for (int r = 0; r < targets.length; r++) {
            if (mask[r] == 0) continue;
            logp[r] = Math.log(Math.max(probs.getDouble(r, targets[r]), 1e-30));
            loss -= weights[r] * logp[r];
        }
        return new Output(probs, loss, logp);
    }

    /** d loss / d logits = w_r (p_r - onehot(target_r)), computed in place of the output's probabilities. */
    public static INDArray backward(Output out, int[] targets, double[] weights, float[] mask) {
        INDArray d = out.probabilities();
        for (int r = 0; r < targets.length; r++) if (mask[r] != 0) d.putScalar(r, targets[r], d.getDouble(r, targets[r]) - 1);
        double[] w = new double[targets.length];
        for (int r = 0; r < w.length; r++) w[r] = mask[r] == 0 ? 0 : weights[r];
        return d.muliColumnVector(Nd4j.create(w, new long[] {w.length, 1}, 'c').castTo(d.dataType()));
    }
}
