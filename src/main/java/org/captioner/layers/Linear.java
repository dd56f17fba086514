package org.captioner.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

/**
 * A linear layer, {@code y = x W + b}. Parameters: W [in, out], b [1, out] (or none).
 * Rows are independent, so a decoder applies it to all time steps at once ([T*B, in]).
 */
public final class Linear {
    private final Parameters p;
    final String w, b;

    /** {@code b} null: no bias. */
    public Linear(Parameters p, String w, String b) {
        this.p = p;
        this.w = w;
        this.b = b;
    }

    /** x [N, in] -> x W + b [N, out]. */
    public INDArray forward(INDArray x) {
        INDArray y = x.mmul(p.get(w));
        return b == null ? y : y.addiRowVector(p.get(b));
    }

    /** dW += x^T dy and db += column sums of dy (one GEMM into the gradient, no [in, out] temporary). */
    public void backward(INDArray x, INDArray dy, Map<String, INDArray> grads) {
        Nd4j.gemm(x, dy, grads.get(w), true, false, 1.0, 1.0);
        if (b != null) grads.get(b).addi(dy.sum(true, 0));
    }

    /** dx = dy W^T [N, in]. */
    public INDArray inputGradient(INDArray dy) {
        return dy.mmul(p.get(w).transpose());
    }

    /** dx += dy W^T: where x feeds several layers and their gradients add up. */
    public void addInputGradient(INDArray dy, INDArray dx) {
        Nd4j.gemm(dy, p.get(w), dx, false, true, 1.0, 1.0);
    }
}
