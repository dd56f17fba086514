package org.captioner.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

/**
 * Elman cell. Parameters: W_h [H, H], b [1, H].
 * <pre>
 *   h_t = tanh(in + h_{t-1} W_h + b)    [B,H]   in = x_t W_x (+ v' W_v): h = tanh(Wxh x + Whh h + Wih v + b)
 * </pre>
 */
public final class RnnCell extends RecurrentCell {
    private final Linear recurrent;

    public RnnCell(Parameters p, String wh, String b, int hidden) {
        super(p, hidden);
        this.recurrent = new Linear(p, wh, b);
    }

    record RnnStep(INDArray hPrev, INDArray h) implements Step {
        @Override
        public INDArray[] state() {
            return new INDArray[] {h};
        }
    }

    @Override
    public int inputWidth() {
        return hidden;
    }

    @Override
    public int stateSize() {
        return 1;
    }

    @Override
    public Step forward(INDArray in, INDArray[] prev) {
        return new RnnStep(prev[0], Transforms.tanh(in.addi(recurrent.forward(prev[0])), false));
    }

    @Override
    public Gradients backward(Step step, INDArray[] dNext, Map<String, INDArray> grads) {
        RnnStep s = (RnnStep) step;
        INDArray da = dNext[0].mul(tanhGrad(s.h()));                                         // [B,H]
        recurrent.backward(s.hPrev(), da, grads);
        return new Gradients(da, new INDArray[] {recurrent.inputGradient(da)});
    }
}
