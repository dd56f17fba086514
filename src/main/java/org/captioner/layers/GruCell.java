package org.captioner.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

/**
 * GRU cell, as torch.nn.GRU. Parameters: W_h [H, 3H], b [1, 3H] (input side), b_hn [1, H]; gate blocks in the order
 * reset | update | candidate.
 * <pre>
 *   gi = in + b;  gh = h_{t-1} W_h                     [B,3H]  in = x_t W_x (+ v' W_v)
 *   r = sigmoid(gi_r + gh_r),  u = sigmoid(gi_u + gh_u) [B,H]
 *   n = tanh(gi_n + r * (gh_n + b_hn))                  [B,H]
 *   h_t = (1 - u) * n + u * h_{t-1}                     [B,H]
 * </pre>
 */
public final class GruCell extends RecurrentCell {
    private final String wh, b, bhn;

    public GruCell(Parameters p, String wh, String b, String bhn, int hidden) {
        super(p, hidden);
        this.wh = wh;
        this.b = b;
        this.bhn = bhn;
    }

    record GruStep(INDArray hPrev, INDArray r, INDArray u, INDArray n, INDArray ghn, INDArray h) implements Step {
        @Override
        public INDArray[] state() {
            return new INDArray[] {h};
        }
    }

    @Override
    public int inputWidth() {
        return 3 * hidden;
    }

    @Override
    public int stateSize() {
        return 1;
    }

    @Override
    public Step forward(INDArray in, INDArray[] prev) {
        INDArray hPrev = prev[0], gi = in.addiRowVector(p.get(b));
        INDArray gh = hPrev.mmul(p.get(wh));                                                // [B,3H]
        INDArray r = Transforms.sigmoid(block(gi, 0, hidden).add(block(gh, 0, hidden)), false);
        INDArray u = Transforms.sigmoid(block(gi, 1, hidden).add(block(gh, 1, hidden)), false);
        INDArray ghn = block(gh, 2, hidden).addRowVector(p.get(bhn));                       // gh_n + b_hn
        INDArray n = Transforms.tanh(block(gi, 2, hidden).add(r.mul(ghn)), false);
        return new GruStep(hPrev, r, u, n, ghn, hPrev.sub(n).muli(u).addi(n));              // (1-u) n + u h_{t-1}
    }

    @Override
    public Gradients backward(Step step, INDArray[] dNext, Map<String, INDArray> grads) {
        GruStep s = (GruStep) step;
        INDArray dh = dNext[0];
        INDArray dnPre = dh.mul(s.u().rsub(1.0)).muli(tanhGrad(s.n()));                    // d n = dh (1-u), through tanh
        INDArray drPre = dnPre.mul(s.ghn()).muli(sigmoidGrad(s.r()));
        INDArray duPre = dh.mul(s.hPrev().sub(s.n())).muli(sigmoidGrad(s.u()));            // d u = dh (h_{t-1} - n)
        long rows = dh.size(0);
        INDArray dGi = Nd4j.create(dh.dataType(), rows, 3L * hidden), dGh = Nd4j.create(dh.dataType(), rows, 3L * hidden);
        block(dGi, 0, hidden).assign(drPre);
        block(dGi, 1, hidden).assign(duPre);
        block(dGi, 2, hidden).assign(dnPre);
        block(dGh, 0, hidden).assign(drPre);
        block(dGh, 1, hidden).assign(duPre);
        INDArray dGhn = block(dGh, 2, hidden).assign(dnPre.mul(s.r()));                    // d(gh_n + b_hn)
        Nd4j.gemm(s.hPrev(), dGh, grads.get(wh), true, false, 1.0, 1.0);
        grads.get(bhn).addi(dGhn.sum(true, 0));
        grads.get(b).addi(dGi.sum(true, 0));
        INDArray dhPrev = dh.mul(s.u());                                                    // the direct path u h_{t-1}
        Nd4j.gemm(dGh, p.get(wh), dhPrev, false, true, 1.0, 1.0);                           //   + dGh W_h^T
        return new Gradients(dGi, new INDArray[] {dhPrev});
    }
}
