package org.captioner.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A padded teacher-forcing batch of B captions, T = longest caption + 1 steps.
 *
 * @param inputs  [B, 1, T] token ids fed in: {@code <start> w1 .. wn} then padding
 * @param targets [B, 1, T] token ids to predict: {@code w1 .. wn <end>} then padding
 * @param mask    [B, T] 1 on real steps, 0 on padding
 * @param vectors [B, D] image vectors
 * @param grids   [B, cells, C] feature grids, or null for decoders that do not attend
 * @param tokens  number of target tokens (sum of the mask)
 */
public record CaptionBatch(INDArray inputs, INDArray targets, INDArray mask, INDArray vectors, INDArray grids, long tokens) {
    public int size() {
        return (int) inputs.size(0);
    }
}
