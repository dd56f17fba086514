package org.captioner.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code gru} decoder: a (stacked) GRU language model that receives the image vector at every step, as
 * {@code rnn}/{@code lstm} do. Shapes: B batch, T steps, D image vector, P its projection, E embedding, H hidden,
 * V vocabulary; layer l = 1..N, gates in the order reset | update | candidate (PyTorch's r | z | n).
 * <pre>
 *   v'     = v W_p + b_p                                          [B,P]   image projection (identity), once
 *   layer 1 input [x_t; v']:  gi_t = x_t W_x + v' W_v + b          [B,3H]  v' reaches every gate by its own columns
 *   layer l>1 input h^{l-1}_t (dropout):  gi_t = h W_i^l + b^l     [B,3H]
 *   gh_t   = h_{t-1} W_h                                          [B,3H]
 *   r      = sigmoid(gi_r + gh_r),  u = sigmoid(gi_u + gh_u)      [B,H]
 *   n      = tanh(gi_n + r * (gh_n + b_hn))                       [B,H]
 *   h_t    = (1 - u) * n + u * h_{t-1}                            [B,H]   h_0 = 0
 *   y_t    = dropout(h^N_t) W_out + b_out -> softmax              [B,V]
 * </pre>
 * Only the first layer sees the image: the upper layers get it through h^1, as in a stacked torch.nn.GRU whose
 * input is [x; v'], and stacking then adds depth, not a second copy of the image term (docs/training.md, --layers).
 * <p>
 * Hand-written forward and backward passes (DL4J 1.0.0-M2.1 has no GRU layer, and SameDiff's unrolled graphs trained
 * at a tenth of the speed here, see {@link AttentionDecoder}): everything that does not feed the recurrence (the
 * input-side products, the output layer) is one GEMM over all steps; inside the loop only h_{t-1} W_h and the
 * element-wise gate terms. {@code GruGradientTest} checks the backward pass against finite differences.
 */
public final class GruDecoder extends HandWrittenDecoder {
    private GruDecoder(DecoderConfig c, ParameterSet params, long seed) {
        super(c, params, seed);
    }

    /** Parameter names: the image projection, then per layer its input weights, bias, recurrent weights, b_hn. */
    static String[] names(int layers) {
        List<String> n = new ArrayList<>(List.of("E", "W_p", "b_p", "W_v"));
        for (int l = 1; l <= layers; l++) n.addAll(List.of(wIn(l), bIn(l), wH(l), bHn(l)));
        n.addAll(List.of("W_out", "b_out"));
        return n.toArray(String[]::new);
    }

    private static String wIn(int l) {
        return l == 1 ? "W_x" : "W_i" + l;
    }

    private static String bIn(int l) {
        return l == 1 ? "b" : "b" + l;
    }

    private static String wH(int l) {
        return l == 1 ? "W_h" : "W_h" + l;
    }

    private static String bHn(int l) {
        return l == 1 ? "b_hn" : "b_hn" + l;
    }

    public static GruDecoder create(DecoderConfig c, double learningRate, long seed) {
        return create(c, learningRate, seed, DataType.FLOAT);
    }

    /** With parameters in {@code dtype} (DOUBLE for gradient checks). */
    public static GruDecoder create(DecoderConfig c, double learningRate, long seed, DataType dtype) {
        if (c.type() != DecoderType.GRU) throw new IllegalArgumentException("GruDecoder is the gru decoder, not " + c.type().id());
        int v = c.vocabSize(), e = c.embedSize(), p = c.imageProjection(), d = c.imageDim(), h = c.hidden();
        Nd4j.getRandom().setSeed(seed);
        Map<String, INDArray> init = new HashMap<>();
        // As the rnn/lstm decoders (PyTorch's defaults): embedding N(0,1); the GRU's weights and biases U(+-1/sqrt(H))
        // as torch.nn.GRU; the linear layers U(+-1/sqrt(fan-in)).
        init.put("E", Nd4j.randn(dtype, v, e));
        init.put("W_p", uniform(dtype, 1 / Math.sqrt(d), d, p));
        init.put("b_p", uniform(dtype, 1 / Math.sqrt(d), 1, p));
        init.put("W_v", uniform(dtype, 1 / Math.sqrt(h), p, 3L * h));
        for (int l = 1; l <= c.layers(); l++) {
            init.put(wIn(l), uniform(dtype, 1 / Math.sqrt(h), l == 1 ? e : h, 3L * h));
            init.put(bIn(l), uniform(dtype, 1 / Math.sqrt(h), 1, 3L * h));
            init.put(wH(l), uniform(dtype, 1 / Math.sqrt(h), h, 3L * h));
            init.put(bHn(l), uniform(dtype, 1 / Math.sqrt(h), 1, h));
        }
        init.put("W_out", uniform(dtype, 1 / Math.sqrt(h), h, v));
        init.put("b_out", uniform(dtype, 1 / Math.sqrt(h), 1, v));
        ParameterSet ps = new ParameterSet(names(c.layers()), learningRate);
        ps.init(init);
        return new GruDecoder(c, ps, seed);
    }

    private static INDArray uniform(DataType dt, double r, long... shape) {
        return Nd4j.rand(dt, shape).muli(2 * r).subi(r);                                   // U(-r, r)
    }

    public static GruDecoder load(DecoderConfig c, Path file, boolean withUpdater, double learningRate) throws IOException {
        ParameterSet ps = ParameterSet.load(file, names(c.layers()), withUpdater, learningRate,
                "a " + c.layers() + "-layer gru decoder");
        if (ps.get("E").size(0) != c.vocabSize()) {
            throw new IOException(file + ": the network has " + ps.get("E").size(0) + " words but the vocabulary has " + c.vocabSize());
        }
        return new GruDecoder(c, ps, 42);
    }

    // ---------------------------------------------------------------- the cell, shared by training and decoding

    /** One GRU step's activations, kept for the backward pass. */
    private record Cell(INDArray hPrev, INDArray r, INDArray u, INDArray n, INDArray ghn, INDArray h) {
    }

    /** gi [B,3H] (input side, bias included), hPrev [B,H] -> the step (formulas in the class comment). */
    private Cell cell(int layer, INDArray gi, INDArray hPrev) {
        int h = c.hidden();
        INDArray gh = hPrev.mmul(params.get(wH(layer)));                                    // [B,3H]  h_{t-1} W_h
        INDArray r = Transforms.sigmoid(block(gi, 0, h).add(block(gh, 0, h)), false);       // [B,H]
        INDArray u = Transforms.sigmoid(block(gi, 1, h).add(block(gh, 1, h)), false);       // [B,H]
        INDArray ghn = block(gh, 2, h).addRowVector(params.get(bHn(layer)));                // [B,H]  gh_n + b_hn
        INDArray n = Transforms.tanh(block(gi, 2, h).add(r.mul(ghn)), false);               // [B,H]
        INDArray hNew = hPrev.sub(n).muli(u).addi(n);                                       // (1-u) n + u h_{t-1}
        return new Cell(hPrev, r, u, n, ghn, hNew);
    }

    // ---------------------------------------------------------------- training

    /** Loss and, when asked, gradients (by parameter name) and the probabilities [B,V,T]. */
    record Pass(double crossEntropy, Map<String, INDArray> gradients, INDArray probabilities) {
    }

    /**
     * One teacher-forced pass. {@code train} applies dropout; {@code grads} runs the backward pass; with
     * {@code weights} ([B*T], caption-major) the loss is {@code sum weights * -log p(target)} (self-critical
     * training's policy-gradient loss) instead of the mean over target tokens. Padding steps come after a caption's
     * last real step, so they feed no real step and need no special handling beyond the loss mask.
     */
    synchronized Pass pass(CaptionBatch batch, boolean train, boolean grads, float[] weights) {
        DataType dt = params.get("E").dataType();
        int n = batch.size(), steps = (int) batch.inputs().size(2), rows = n * steps;
        int h = c.hidden(), v = c.vocabSize(), em = c.embedSize(), layers = c.layers();
        float[] inIds = batch.inputs().dup('c').data().asFloat(), tgtIds = batch.targets().dup('c').data().asFloat();
        float[] maskArr = batch.mask().dup('c').data().asFloat();
        // time-major rows: row t*B + i = caption i at step t
        int[] ids = new int[rows], tgt = new int[rows];
        float[] maskTB = new float[rows];
        for (int t = 0; t < steps; t++) {
            for (int i = 0; i < n; i++) {
                ids[t * n + i] = (int) inIds[i * steps + t];
                tgt[t * n + i] = (int) tgtIds[i * steps + t];
                maskTB[t * n + i] = maskArr[i * steps + t];
            }
        }
        INDArray vec = batch.vectors().castTo(dt);                                          // [B,D]
        INDArray vp = vec.mmul(params.get("W_p")).addiRowVector(params.get("b_p"));         // [B,P]  v'
        INDArray gv = vp.mmul(params.get("W_v"));                                           // [B,3H] v' W_v
        INDArray x = params.get("E").getRows(ids);                                          // [T*B,E]

        INDArray[] layerIn = new INDArray[layers + 1];         // layer l's input, all steps   [T*B, E or H]
        INDArray[] drops = new INDArray[layers + 2];           // dropout masks on layer l's input (l>1), output (N+1)
        Cell[][] cells = new Cell[layers + 1][steps];
        INDArray below = x;
        for (int l = 1; l <= layers; l++) {
            INDArray in = below;
            if (l > 1 && train && c.dropout() > 0) {
                drops[l] = dropoutMask(rows, h, dt);
                in = below.mul(drops[l]);
            }
            layerIn[l] = in;
            INDArray gi = in.mmul(params.get(wIn(l))).addiRowVector(params.get(bIn(l)));   // [T*B,3H] all steps at once
            if (l == 1) for (int t = 0; t < steps; t++) rowsOf(gi, t, n).addi(gv);          //  + v' W_v at every step
            INDArray out = Nd4j.create(dt, rows, h);                                        // [T*B,H]  h^l_t
            INDArray hPrev = Nd4j.zeros(dt, n, h);
            for (int t = 0; t < steps; t++) {
                Cell s = cell(l, rowsOf(gi, t, n), hPrev);
                cells[l][t] = s;
                rowsOf(out, t, n).assign(s.h());
                hPrev = s.h();
            }
            below = out;
        }
        INDArray hOut = below;                                                              // [T*B,H]  top layer
        if (train && c.dropout() > 0) {
            drops[layers + 1] = dropoutMask(rows, h, dt);
            hOut = below.mul(drops[layers + 1]);
        }
        INDArray probs = Transforms.softmax(hOut.mmul(params.get("W_out")).addiRowVector(params.get("b_out")), false); // [T*B,V]
        double[] wTB = new double[rows];                       // loss weight per row
        for (int r = 0; r < rows; r++) {
            if (maskTB[r] != 0) wTB[r] = weights == null ? 1.0 / batch.tokens() : weights[(r % n) * steps + r / n];
        }
        double ce = 0;
        for (int r = 0; r < rows; r++) if (maskTB[r] != 0) ce -= wTB[r] * Math.log(Math.max(probs.getDouble(r, tgt[r]), 1e-30));
        if (!grads) return new Pass(ce, null, probs.reshape(steps, n, v).permute(1, 2, 0).dup('c'));  // [B,V,T]

        Map<String, INDArray> g = params.zeroGradients();
        INDArray dLogits = probs;                                                           // (p - onehot) * weight, in place
        for (int r = 0; r < rows; r++) if (maskTB[r] != 0) dLogits.putScalar(r, tgt[r], dLogits.getDouble(r, tgt[r]) - 1);
        dLogits.muliColumnVector(Nd4j.create(wTB, new long[] {rows, 1}, 'c').castTo(dt));
        acc(g.get("W_out"), hOut, dLogits);                                                 // [H,V]
        g.get("b_out").addi(dLogits.sum(true, 0));
        INDArray dH = dLogits.mmul(params.get("W_out").transpose());                        // [T*B,H]  d h^N
        if (drops[layers + 1] != null) dH.muli(drops[layers + 1]);
        INDArray dGv = null;
        for (int l = layers; l >= 1; l--) {
            // back-propagation through time in layer l: per step the gate gradients, then all weight products at once
            INDArray dGi = Nd4j.create(dt, rows, 3L * h), dGh = Nd4j.create(dt, rows, 3L * h), hPrevAll = Nd4j.create(dt, rows, h);
            INDArray dhNext = Nd4j.zeros(dt, n, h);
            INDArray wh = params.get(wH(l));
            for (int t = steps - 1; t >= 0; t--) {
                Cell s = cells[l][t];
                INDArray dh = rowsOf(dH, t, n).add(dhNext);                                 // [B,H]
                INDArray dn = dh.mul(s.u().rsub(1.0));                                      // d n = dh (1-u)
                INDArray du = dh.mul(s.hPrev().sub(s.n()));                                 // d u = dh (h_{t-1} - n)
                INDArray dnPre = dn.muli(s.n().mul(s.n()).rsubi(1.0));                      // through tanh
                INDArray drPre = dnPre.mul(s.ghn()).muli(s.r().mul(s.r().rsub(1.0)));       // through r * ghn, sigmoid
                INDArray duPre = du.muli(s.u().mul(s.u().rsub(1.0)));                       // through sigmoid
                INDArray dgi = rowsOf(dGi, t, n), dgh = rowsOf(dGh, t, n);                  // [B,3H] views
                block(dgi, 0, h).assign(drPre);
                block(dgi, 1, h).assign(duPre);
                block(dgi, 2, h).assign(dnPre);
                block(dgh, 0, h).assign(drPre);
                block(dgh, 1, h).assign(duPre);
                block(dgh, 2, h).assign(dnPre.mul(s.r()));                                  // d(gh_n + b_hn) = dnPre r
                rowsOf(hPrevAll, t, n).assign(s.hPrev());
                INDArray dhPrev = dh.mul(s.u());                                            // direct path u h_{t-1}
                Nd4j.gemm(dgh, wh, dhPrev, false, true, 1.0, 1.0);                          //   + dgh W_h^T
                dhNext = dhPrev;
            }
            acc(g.get(wH(l)), hPrevAll, dGh);                                               // [H,3H]
            g.get(bHn(l)).addi(block(dGh, 2, h).sum(true, 0));
            acc(g.get(wIn(l)), layerIn[l], dGi);                                            // [in,3H]
            g.get(bIn(l)).addi(dGi.sum(true, 0));
            INDArray dIn = dGi.mmul(params.get(wIn(l)).transpose());                        // [T*B, in]
            if (l > 1) {
                if (drops[l] != null) dIn.muli(drops[l]);
                dH = dIn;                                                                   // d h^{l-1}
            } else {
                float[] dx = dIn.castTo(DataType.FLOAT).dup('c').data().asFloat();          // [T*B,E]
                double[] dE = new double[v * em];
                for (int r = 0; r < rows; r++) for (int k = 0; k < em; k++) dE[ids[r] * em + k] += dx[r * em + k];
                g.put("E", Nd4j.create(dE, new long[] {v, em}, 'c').castTo(dt));
                dGv = dGi.reshape(steps, n, 3L * h).sum(0);                                 // [B,3H]  v' W_v at every step
            }
        }
        acc(g.get("W_v"), vp, dGv);                                                         // [P,3H]
        INDArray dVp = dGv.mmul(params.get("W_v").transpose());                             // [B,P]
        acc(g.get("W_p"), vec, dVp);                                                        // [D,P]
        g.get("b_p").addi(dVp.sum(true, 0));
        return new Pass(ce, g, null);
    }

    @Override
    public synchronized double fit(CaptionBatch batch) {
        Pass p = pass(batch, true, true, null);
        params.update(p.gradients());
        return p.crossEntropy();
    }

    /** Without dropout: the policy being improved is the one that sampled the captions. */
    @Override
    public synchronized double fitWeighted(CaptionBatch batch, float[] weights) {
        if (weights.length != batch.size() * batch.inputs().size(2)) throw new IllegalArgumentException("one weight per caption step expected");
        Pass p = pass(batch, false, true, weights);
        params.update(p.gradients());
        return p.crossEntropy();
    }

    @Override
    public synchronized double loss(CaptionBatch batch) {
        return pass(batch, false, false, null).crossEntropy();
    }

    @Override
    public synchronized INDArray sequenceProbabilities(CaptionBatch batch) {
        return pass(batch, false, false, null).probabilities();
    }

    // ---------------------------------------------------------------- step-by-step decoding

    /** N captions' states: the image term of the first layer's gates, and each layer's h. */
    private static final class State implements DecodingState {
        final INDArray gv;        // [N,3H] v' W_v + b (layer 1's input side without the word)
        final INDArray[] h;       // per layer [N,H]

        State(INDArray gv, INDArray[] h) {
            this.gv = gv;
            this.h = h;
        }

        @Override
        public int size() {
            return (int) gv.size(0);
        }

        @Override
        public DecodingState select(int[] rows) {
            INDArray[] hs = new INDArray[h.length];
            for (int l = 0; l < h.length; l++) hs[l] = h[l].getRows(rows);
            return new State(gv.getRows(rows), hs);
        }
    }

    @Override
    public DecodingState start(INDArray vectors, INDArray grids) {
        DataType dt = params.get("E").dataType();
        INDArray vp = vectors.castTo(dt).mmul(params.get("W_p")).addiRowVector(params.get("b_p"));   // [N,P]
        INDArray gv = vp.mmul(params.get("W_v")).addiRowVector(params.get(bIn(1)));              // [N,3H]
        INDArray[] h = new INDArray[c.layers()];
        for (int l = 0; l < h.length; l++) h[l] = Nd4j.zeros(dt, vectors.size(0), c.hidden());
        return new State(gv, h);
    }

    @Override
    public synchronized INDArray step(DecodingState state, int[] tokens) {
        State s = (State) state;
        INDArray below = null;
        for (int l = 1; l <= c.layers(); l++) {
            INDArray gi = l == 1
                    ? params.get("E").getRows(tokens).mmul(params.get("W_x")).addi(s.gv)             // [N,3H]
                    : below.mmul(params.get(wIn(l))).addiRowVector(params.get(bIn(l)));
            INDArray h = cell(l, gi, s.h[l - 1]).h();                                             // [N,H]
            s.h[l - 1] = h;
            below = h;
        }
        return Transforms.softmax(below.mmul(params.get("W_out")).addiRowVector(params.get("b_out")), false);  // [N,V]
    }
}
