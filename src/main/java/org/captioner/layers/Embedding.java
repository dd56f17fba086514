package org.captioner.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

/** Word embedding, {@code x = E[id]} (a one-hot row times E). Parameter: E [V, E]. */
public final class Embedding {
    private final Parameters p;
    private final String e;

    public Embedding(Parameters p, String e) {
        this.p = p;
        this.e = e;
    }

    /** ids [N] -> [N, E]. */
    public INDArray forward(int[] ids) {
        return p.get(e).getRows(ids);
    }

    /** dE[id] += dx row: a scatter-add over the ids (repeated words add up). */
    public void backward(int[] ids, INDArray dx, Map<String, INDArray> grads) {
        INDArray g = grads.get(e);
        int width = (int) g.size(1);
        double[] d = dx.dup('c').data().asDouble(), dE = new double[(int) g.length()];
        for (int r = 0; r < ids.length; r++) for (int k = 0; k < width; k++) dE[ids[r] * width + k] += d[r * width + k];
        g.addi(Nd4j.create(dE, g.shape(), 'c').castTo(g.dataType()));
    }
}
