package org.captioner.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * What the decoders with hand-written passes ({@link AttentionDecoder}, {@link GruDecoder}) share: their parameters
 * and Adam state ({@link ParameterSet}), dropout masks, and the matrix helpers of their time-major batched passes
 * (row t*B + i = caption i at step t).
 */
abstract class HandWrittenDecoder implements CaptionDecoder {
    protected final DecoderConfig c;
    protected final ParameterSet params;
    private final Random dropoutRng;

    HandWrittenDecoder(DecoderConfig c, ParameterSet params, long seed) {
        this.c = c;
        this.params = params;
        this.dropoutRng = new Random(seed);
    }

    @Override
    public DecoderConfig config() {
        return c;
    }

    /** Inverted dropout at the configured rate: [rows, width] of 0 or 1/keep. */
    protected INDArray dropoutMask(int rows, int width, DataType dt) {
        double keep = 1 - c.dropout();
        float[] d = new float[rows * width];
        for (int k = 0; k < d.length; k++) d[k] = dropoutRng.nextDouble() < keep ? (float) (1 / keep) : 0f;
        return Nd4j.create(d, new long[] {rows, width}, 'c').castTo(dt);
    }

    /** Rows t*n .. t*n+n-1 of a time-major [T*B, k] matrix: step t of every caption (a view). */
    protected static INDArray rowsOf(INDArray x, int t, int n) {
        return x.get(NDArrayIndex.interval((long) t * n, (long) (t + 1) * n), NDArrayIndex.all());
    }

    /** Column block k of width w: gates [B,4H] -> [B,H] (a view). */
    protected static INDArray block(INDArray x, int k, int w) {
        return x.get(NDArrayIndex.all(), NDArrayIndex.interval((long) k * w, (long) (k + 1) * w));
    }

    /** grad += x^T dy, accumulated in place by GEMM (no temporary [in, out] matrix per step). */
    protected static void acc(INDArray grad, INDArray x, INDArray dy) {
        Nd4j.gemm(x, dy, grad, true, false, 1.0, 1.0);
    }

    /** Test hook and gradient checks: the parameter arrays themselves. */
    java.util.Map<String, INDArray> parameters() {
        return params.all();
    }

    @Override
    public void setLearningRate(double lr) {
        params.setLearningRate(lr);
    }

    @Override
    public double learningRate() {
        return params.learningRate();
    }

    @Override
    public long parameterCount() {
        return params.count();
    }

    @Override
    public void close() {
        params.close();
    }

    /** Checkpoints ({@code withUpdater}) keep float32 parameters and the Adam state; bundles float16 ({@link ParameterSet#save}). */
    @Override
    public synchronized void save(Path file, boolean withUpdater) throws IOException {
        params.save(file, withUpdater);
    }
}
