package org.captioner.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The recurrent state of N sequences being decoded. {@link #select} keeps/reorders rows, which is how a
 * beam search follows the surviving hypotheses.
 */
public interface DecodingState {
    int size();

    DecodingState select(int[] rows);

    /** Attention weights of the last step, [N, cells], or null for decoders without attention. */
    default INDArray lastAttention() {
        return null;
    }
}
