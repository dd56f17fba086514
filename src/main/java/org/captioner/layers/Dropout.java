package org.captioner.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

/**
 * Inverted dropout: in training each value is kept with probability 1 - rate and scaled by 1/(1 - rate); otherwise
 * the identity. The mask is returned so the backward pass multiplies the gradient by the same mask.
 */
public final class Dropout {
    private final double rate;
    private final Random rng;

    public Dropout(double rate, long seed) {
        this.rate = rate;
        this.rng = new Random(seed);
    }

    /** A [rows, width] mask of 0 and 1/keep, or null (no dropout) outside training or at rate 0. */
    public INDArray mask(boolean train, long rows, long width, DataType dt) {
        if (!train || rate <= 0) return null;
        double keep = 1 - rate;
        float[] d = new float[Math.toIntExact(rows * width)];
        for (int k = 0; k < d.length; k++) d[k] = rng.nextDouble() < keep ? (float) (1 / keep) : 0f;
        return Nd4j.create(d, new long[] {rows, width}, 'c').castTo(dt);
    }

    /** x * mask (a new array), or x itself when mask is null; the backward pass is the same product. */
    public static INDArray apply(INDArray x, INDArray mask) {
        return mask == null ? x : x.mul(mask);
    }
}
