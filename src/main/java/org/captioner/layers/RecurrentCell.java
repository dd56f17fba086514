package org.captioner.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Map;

/**
 * One step of a recurrent cell: the input side's product {@code in} (x_t W_x and any other inputs' products, all
 * steps computed at once by the decoder) and the previous state give the next state. The state is {h} or {h, c},
 * each [B, H]. The same {@link #forward} serves teacher-forced training (its {@link Step} kept for the backward
 * pass) and step-by-step decoding.
 */
public abstract class RecurrentCell {
    protected final Parameters p;
    protected final int hidden;

    RecurrentCell(Parameters p, int hidden) {
        this.p = p;
        this.hidden = hidden;
    }

    /** What one step keeps for its backward pass; {@link #state} is the new state. */
    public interface Step {
        INDArray[] state();
    }

    /** The gradients of a step: of its input side [B, width] and of the previous state. */
    public record Gradients(INDArray dIn, INDArray[] dPrev) {
    }

    /** Width of the input side: H (rnn), 3H (gru), 4H (lstm). */
    public abstract int inputWidth();

    /** Number of state arrays: 1 (h) or 2 (h, c). */
    public abstract int stateSize();

    /** {@code in} [B, width] (overwritten), {@code prev} the previous state -> the step. */
    public abstract Step forward(INDArray in, INDArray[] prev);

    /**
     * {@code dNext}: the loss gradients arriving at this step's state (dh, and dc for the LSTM); adds the cell's
     * weight gradients into {@code grads}.
     */
    public abstract Gradients backward(Step s, INDArray[] dNext, Map<String, INDArray> grads);

    /** Column block k of width w: gates [B, kH] -> [B, H] (a view). */
    static INDArray block(INDArray x, int k, int w) {
        return x.get(NDArrayIndex.all(), NDArrayIndex.interval((long) k * w, (long) (k + 1) * w));
    }

    /** sigma'(x) from y = sigma(x): y (1 - y). */
    static INDArray sigmoidGrad(INDArray y) {
        return y.mul(y.rsub(1.0));
    }

    /** tanh'(x) from y = tanh(x): 1 - y^2. */
    static INDArray tanhGrad(INDArray y) {
        return y.mul(y).rsubi(1.0);
    }
}
