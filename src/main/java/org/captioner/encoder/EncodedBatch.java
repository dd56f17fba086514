package org.captioner.encoder;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What an encoder produces for a batch of B images.
 *
 * @param vectors image vectors v, shape [B, D]
 * @param grid    feature grid, shape [B, cells, C]; cell index = row * side + col, row 0 at the top
 */
public record EncodedBatch(INDArray vectors, INDArray grid) {
    public long size() {
        return vectors.size(0);
    }
}
