package org.captioner.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

/**
 * A feature grid's channels projected, cell by cell, once per image (ImageCaptioning.pytorch's {@code att_embed}).
 * Parameters: W [C, P], b [1, P].
 * <pre>
 *   a_i' = relu(a_i W + b)     [M,L,C] -> [M,L,P]
 * </pre>
 */
public final class GridProjection {
    private final Linear linear;
    private final int width;

    public GridProjection(Parameters p, String w, String b, int width) {
        this.linear = new Linear(p, w, b);
        this.width = width;
    }

    /** grids [M,L,C] -> [M,L,P]. */
    public INDArray forward(INDArray grids) {
        long m = grids.size(0), l = grids.size(1);
        INDArray y = linear.forward(grids.dup('c').reshape(m * l, grids.size(2)));
        return Transforms.relu(y, false).reshape(m, l, width);
    }

    /** {@code out}: forward's result; {@code dOut} [M*L, P] (overwritten): adds dW and db. */
    public void backward(INDArray grids, INDArray out, INDArray dOut, Map<String, INDArray> grads) {
        long rows = grids.size(0) * grids.size(1);
        dOut.muli(out.reshape(rows, width).gt(0).castTo(dOut.dataType()));                // through the ReLU
        linear.backward(grids.dup('c').reshape(rows, grids.size(2)), dOut, grads);
    }
}
