package org.captioner.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

/**
 * LSTM cell. Parameters: W_h [H, 4H], b [1, 4H]; gate blocks in the order i | f | o | g.
 * <pre>
 *   gates = in + h_{t-1} W_h + b                      [B,4H]   in = x_t W_x (+ z_t W_z ...)
 *   i, f, o = sigmoid(gates_i, gates_f, gates_o);  g = tanh(gates_g)
 *   c_t = f * c_{t-1} + i * g;   h_t = o * tanh(c_t)  [B,H]
 * </pre>
 */
public final class LstmCell extends RecurrentCell {
    private final String wh, b;
    private final Linear recurrent;

    public LstmCell(Parameters p, String wh, String b, int hidden) {
        super(p, hidden);
        this.wh = wh;
        this.b = b;
        this.recurrent = new Linear(p, wh, b);
    }

    record LstmStep(INDArray hPrev, INDArray cPrev, INDArray i, INDArray f, INDArray o, INDArray g, INDArray tanhC,
                    INDArray h, INDArray c) implements Step {
        @Override
        public INDArray[] state() {
            return new INDArray[] {h, c};
        }
    }

    @Override
    public int inputWidth() {
        return 4 * hidden;
    }

    @Override
    public int stateSize() {
        return 2;
    }

    @Override
    public Step forward(INDArray in, INDArray[] prev) {
        INDArray hPrev = prev[0], cPrev = prev[1];
        INDArray gates = in.addi(hPrev.mmul(p.get(wh))).addiRowVector(p.get(b));           // [B,4H]
        INDArray i = Transforms.sigmoid(block(gates, 0, hidden), true), f = Transforms.sigmoid(block(gates, 1, hidden), true);
        INDArray o = Transforms.sigmoid(block(gates, 2, hidden), true), g = Transforms.tanh(block(gates, 3, hidden), true);
        INDArray c = f.mul(cPrev).addi(i.mul(g));                                           // [B,H]
        INDArray tc = Transforms.tanh(c, true);
        return new LstmStep(hPrev, cPrev, i, f, o, g, tc, o.mul(tc), c);
    }

    @Override
    public Gradients backward(Step step, INDArray[] dNext, Map<String, INDArray> grads) {
        LstmStep s = (LstmStep) step;
        INDArray dh = dNext[0];
        INDArray dc = dh.mul(s.o()).muli(tanhGrad(s.tanhC()));                              // through h = o tanh(c)
        if (dNext[1] != null) dc.addi(dNext[1]);
        INDArray dGates = Nd4j.create(dh.dataType(), dh.size(0), 4L * hidden);                     // [B,4H]
        block(dGates, 0, hidden).assign(dc.mul(s.g()).muli(sigmoidGrad(s.i())));
        block(dGates, 1, hidden).assign(dc.mul(s.cPrev()).muli(sigmoidGrad(s.f())));
        block(dGates, 2, hidden).assign(dh.mul(s.tanhC()).muli(sigmoidGrad(s.o())));
        block(dGates, 3, hidden).assign(dc.mul(s.i()).muli(tanhGrad(s.g())));
        recurrent.backward(s.hPrev(), dGates, grads);
        return new Gradients(dGates, new INDArray[] {recurrent.inputGradient(dGates), dc.muli(s.f())});
    }
}
