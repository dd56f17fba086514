package org.captioner.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * Show, Attend and Tell: an LSTM that, at each step, attends over the L cells of the feature grid.
 * Shapes: B batch, L grid cells, C grid channels, A attention size, E embedding, H hidden, V vocabulary.
 * <pre>
 *   h_0, c_0 = mean_i(a_i) W_h0 + b, mean_i(a_i) W_c0 + b          [B,H]
 *   e_ti     = w . tanh(a_i W_a + h_{t-1} W_ha)                     [B,L]   additive attention
 *   p_t      = sparsemax_i(e_t)  (or softmax_i)                    [B,L]   (kept for visualisation)
 *   z_t      = sigmoid(h_{t-1} W_beta + b_beta) * sum_i p_ti a_i   [B,C]   gated context
 *   gates    = x_t W_x + z_t W_z + h_{t-1} W_h + b                 [B,4H]  LSTM input is [x_t; z_t]
 *   h_t      = LSTM(gates, c_{t-1});  y_t = dropout(h_t) W_out + b [B,V]
 *   loss     = mean over target tokens of -log p(w_t) + lambda * mean_b mean_i (1 - sum_t p_ti)^2
 * </pre>
 * The doubly stochastic regulariser is averaged over the L cells, as the Show-Attend-Tell tutorial and the
 * PyTorch baseline do. Summed over cells (the paper's form next to a summed, not averaged, cross-entropy) it
 * outweighed the per-token cross-entropy L-fold, and with fewer words than cells its optimum is uniform
 * attention: the model trained that way attended within 0.01 nats of uniform.
 * <pre>
 * </pre>
 * Training runs a hand-written batched forward and backward pass (back-propagation through time). Why not
 * SameDiff: in 1.0.0-M2.1 the unrolled graph trained at 48 tokens/s here (per-op overhead), and the gradients of
 * gather, tensorMmul and logSoftmax(dim) crash. Products of all steps at once are ND4J GEMMs; the recurrence runs
 * in float as Java loops plus BLAS ({@link FloatAttentionRecurrence}, {@link AttentionScoreKernel}), and in any
 * other data type as the ND4J reference ({@code Reference}), which {@code AttentionGradientTest} checks against
 * finite differences and {@code AttentionDecoderFloatTest} checks the float path against. The grid projection
 * a_i W_a is computed once per batch; decoding ({@link #step}) uses the same formulas and the same score loops.
 */
public final class AttentionDecoder extends HandWrittenDecoder {
    private static final String[] PARAMS = {"E", "W_a", "W_ha", "w_att", "W_beta", "b_beta", "W_x", "W_z", "W_h", "b",
            "W_h0", "b_h0", "W_c0", "b_c0", "W_out", "b_out"};

    /**
     * Hard attention's weights, as arctic-captions (the paper authors' code) sets them: REINFORCE term 1/10 of the
     * log-likelihood's, entropy term 0.002; the moving-average baseline decays by 0.9 a batch (the paper's eq. 12).
     */
    static final double HARD_REINFORCE = 0.1, HARD_ENTROPY = 0.002, HARD_BASELINE_DECAY = 0.9;
    private static final String BASELINE = "hard_baseline";

    private final double lambda;
    private final Random cellRng;
    private final boolean hard;

    private AttentionDecoder(DecoderConfig c, ParameterSet params, double lambda, long seed) {
        super(c, params, seed);
        this.lambda = lambda;
        this.cellRng = new Random(seed + 1);
        this.hard = c.type() == DecoderType.HARD_ATTENTION;
    }

    /**
     * How hard attention picks cells in a pass: drawn from p_t (training), p_t itself for the whole batch (the paper's
     * expected context, used for half the training batches: soft attention), or the most likely cell (decoding,
     * validation, and the policy-gradient step of self-critical training, whose captions were sampled that way).
     */
    enum HardMode { SAMPLE, EXPECTED, ARGMAX }

    /** A pass's hard-attention choice; {@code cells} [T][B] and {@code advantage} [B] fix the draws (gradient checks). */
    record HardChoice(HardMode mode, int[][] cells, double[] advantage) {
    }

    public static AttentionDecoder create(DecoderConfig c, double learningRate, double lambda, long seed) {
        return create(c, learningRate, lambda, seed, DataType.FLOAT);
    }

    /** With parameters in {@code dtype} (DOUBLE for gradient checks). */
    public static AttentionDecoder create(DecoderConfig c, double learningRate, double lambda, long seed, DataType dtype) {
        int v = c.vocabSize(), e = c.embedSize(), ch = c.gridChannels(), a = c.attentionSize(), h = c.hidden();
        Nd4j.getRandom().setSeed(seed);
        Map<String, INDArray> initial = new HashMap<>();
        long[][] shapes = {{v, e}, {ch, a}, {h, a}, {a, 1}, {h, ch}, {1, ch}, {e, 4L * h}, {ch, 4L * h}, {h, 4L * h}, {1, 4L * h},
                {ch, h}, {1, h}, {ch, h}, {1, h}, {h, v}, {1, v}};
        // PyTorch's initialisation, as in the Show-Attend-Tell tutorial the baseline follows: embedding and output
        // layer U(-0.1, 0.1) (output bias 0); every other weight and bias U(+-1/sqrt(fan-in)), the LSTM's with
        // fan-in H as nn.LSTMCell. (Xavier everywhere learnt slower: dev CIDEr-D 0.206 after epoch 1, as the
        // lstm decoder's Xavier embeddings did.)
        for (int i = 0; i < PARAMS.length; i++) {
            double r = switch (PARAMS[i]) {
                case "E", "W_out" -> 0.1;
                case "b_out" -> 0.0;
                case "W_a", "W_h0", "b_h0", "W_c0", "b_c0" -> 1 / Math.sqrt(ch);                // fan-in C
                case "w_att" -> 1 / Math.sqrt(a);
                default -> 1 / Math.sqrt(h);                     // W_ha, W_beta, b_beta; LSTM W_x, W_z, W_h, b
            };
            initial.put(PARAMS[i], Nd4j.rand(dtype, shapes[i]).muli(2 * r).subi(r));        // U(-r, r)
        }
        ParameterSet ps = new ParameterSet(PARAMS, learningRate);
        ps.init(initial);
        return new AttentionDecoder(c, ps, lambda, seed);
    }

    // ---------------------------------------------------------------- training: forward and backward by hand

    /**
     * Loss (mean cross-entropy per target token, and the attention regulariser) and, when asked, gradients.
     * Hard attention in training adds {@code hardTerms}: the REINFORCE surrogate and the entropy bonus (as a loss), and
     * {@code logLikelihood}: the mean over captions of sum_t log p(w_t), which the moving-average baseline follows.
     */
    public record Pass(double crossEntropy, double regulariser, Map<String, INDArray> gradients, INDArray probabilities,
                       double hardTerms, double logLikelihood) {
    }

    private static INDArray sigmoid(INDArray x) {
        return Transforms.sigmoid(x, true);
    }

    /**
     * One teacher-forced pass over a batch. {@code train} applies dropout; {@code grads} runs the backward pass.
     * Steps past a caption's end contribute nothing (their targets and attention are masked out, and no real step
     * follows them), so the recurrence needs no special handling of padding.
     */
    public synchronized Pass pass(CaptionBatch batch, boolean train, boolean grads) {
        return pass(batch, train, grads, null);
    }

    /**
     * With {@code weights} ([B*T], caption-major: caption i step t at i*T + t), the loss is
     * {@code sum_{i,t} weights * -log p(target)} instead of the mean over target tokens (the policy-gradient loss of
     * self-critical training); the attention regulariser is unchanged.
     */
    synchronized Pass pass(CaptionBatch batch, boolean train, boolean grads, float[] weights) {
        return pass(batch, train, grads, weights, null);
    }

    /** {@code choice}: for hard attention (ignored by soft); null = {@link HardMode#ARGMAX}. */
    synchronized Pass pass(CaptionBatch batch, boolean train, boolean grads, float[] weights, HardChoice choice) {
        HardMode mode = !hard ? null : choice == null ? HardMode.ARGMAX : choice.mode();
        FloatAttentionRecurrence.CellChoice pick = mode == null || mode == HardMode.EXPECTED ? null
                : mode == HardMode.ARGMAX ? AttentionDecoder::argmax
                : choice.cells() != null ? (t, b, p, off, l) -> choice.cells()[t][b]
                : (t, b, p, off, l) -> sample(p, off, l);
        DataType dt = params.get("E").dataType();
        int n = batch.size(), steps = (int) batch.inputs().size(2), rows = n * steps;
        int l = c.gridCells(), ch = c.gridChannels(), a = c.attentionSize(), h = c.hidden(), v = c.vocabSize(), em = c.embedSize();
        INDArray grid = batch.grids().castTo(dt);                                           // [B,L,C]
        // The grid cell-major, [L,B,C]: a term that depends on h (one row per caption) is then one contiguous
        // row broadcast over the L cells.
        INDArray gridLB = grid.permute(1, 0, 2).dup('c').reshape((long) l * n, ch);         // [L*B,C]
        INDArray projLB = gridLB.mmul(params.get("W_a"));                                   // [L*B,A]  a_i W_a, once
        INDArray mean = grid.mean(1);                                                       // [B,C]
        INDArray h0 = mean.mmul(params.get("W_h0")).addiRowVector(params.get("b_h0"));     // [B,H]
        INDArray c0 = mean.mmul(params.get("W_c0")).addiRowVector(params.get("b_c0"));     // [B,H]
        float[] inIds = batch.inputs().dup('c').data().asFloat(), tgtIds = batch.targets().dup('c').data().asFloat();
        float[] maskArr = batch.mask().dup('c').data().asFloat();
        // Everything that does not feed the recurrence is done for all steps at once, in time-major rows
        // (row t*B + i = caption i at step t): the embedding lookups and their gate inputs now, the output layer
        // after the loop. Only h-dependent products stay inside it.
        int[] ids = new int[rows];
        float[] maskTB = new float[rows];
        for (int t = 0; t < steps; t++) {
            for (int i = 0; i < n; i++) {
                ids[t * n + i] = (int) inIds[i * steps + t];
                maskTB[t * n + i] = maskArr[i * steps + t];
            }
        }
        INDArray maskCol = Nd4j.create(maskTB, new long[] {rows, 1}, 'c').castTo(dt);       // [T*B,1]
        INDArray xAll = params.get("E").getRows(ids);                                       // [T*B,E]
        INDArray gxAll = xAll.mmul(params.get("W_x")).addiRowVector(params.get("b"));      // [T*B,4H]  x_t W_x + b

        // The recurrence: in float by FloatAttentionRecurrence (Java loops + BLAS), in any other type (double,
        // for gradient checks) by the same formulas as ND4J ops below, the reference the float path is tested on.
        FloatAttentionRecurrence fast = null;
        Reference ref = null;
        INDArray hAll, zAll, coverage;                                                       // [T*B,H], [T*B,C], [B,L]
        if (dt == DataType.FLOAT) {
            float[][] act = new float[steps][];
            for (int t = 0; t < steps; t++) act[t] = actBuffer(t, rows(l, n, a));
            INDArray wCat = Nd4j.hstack(params.get("W_h"), params.get("W_ha"), params.get("W_beta"));   // [H,K]
            fast = new FloatAttentionRecurrence(n, steps, l, ch, a, h, grid.dup('c').data().asFloat(), gxAll.data().asFloat(),
                    maskTB, params.get("b_beta").dup('c').data().asFloat(), wCat, params.get("W_z"),
                    new AttentionScoreKernel(projLB.data().asFloat(), params.get("w_att").dup('c').data().asFloat(), l, n, a),
                    act, h0.data().asFloat(), c0.data().asFloat(), c.attentionMap() == AttentionMap.SPARSEMAX, pick);
            fast.forward();
            hAll = Nd4j.create(fast.hAll, new long[] {rows, h}, 'c');
            zAll = Nd4j.create(fast.zAll, new long[] {rows, ch}, 'c');
            coverage = Nd4j.create(fast.coverage, new long[] {n, l}, 'c');
        } else {
            ref = new Reference(grid, projLB, gxAll, maskCol, h0, c0, n, steps, pick);
            hAll = ref.hAll;
            zAll = ref.zAll;
            coverage = ref.coverage;
        }
        // output layer for all steps: dropout(h_t) W_out + b -> softmax                     [T*B,V]
        INDArray drop = null, hOut = hAll;
        if (train && c.dropout() > 0) {
            drop = dropoutMask(rows, h, dt);
            hOut = hAll.mul(drop);
        }
        INDArray probs = Transforms.softmax(hOut.mmul(params.get("W_out")).addiRowVector(params.get("b_out")), false); // [T*B,V]
        // loss weight per row: 1/tokens (mean over target tokens), or the given weights
        double[] wTB = new double[rows];
        for (int r = 0; r < rows; r++) {
            if (maskTB[r] == 0) continue;
            wTB[r] = weights == null ? 1.0 / batch.tokens() : weights[(r % n) * steps + r / n];
        }
        double ce = 0;
        double[] logLik = new double[n];                                                     // per caption sum_t log p(w_t)
        for (int r = 0; r < rows; r++) {
            if (maskTB[r] == 0) continue;
            double lp = Math.log(Math.max(probs.getDouble(r, (int) tgtIds[(r % n) * steps + r / n]), 1e-30));
            ce -= wTB[r] * lp;
            logLik[r % n] += lp;
        }
        INDArray gap = coverage.rsub(1.0);                                                   // [B,L] 1 - sum_t p_t
        double reg = lambda * gap.mul(gap).sumNumber().doubleValue() / ((double) n * gap.size(1)); // mean over B and L
        // Hard attention in training (Xu et al. 2015, eq. 12): the gradient of log p(y|s,a) through the chosen cells,
        // plus lambda_r (log p(y|s,a) - b) d log p(s|a) (REINFORCE: a surrogate loss -lambda_r A sum_t log p_t(s_t)
        // with the advantage A held constant) and the entropy bonus lambda_e H[p_t]; both per target token, as the
        // cross-entropy. They reach the attention scores as a gradient on p_t (dAlphaExtra); the context itself reads
        // the chosen cell and passes no gradient to p_t.
        double hardTerms = 0, meanLogLik = java.util.Arrays.stream(logLik).average().orElse(0);
        double[][] dAlphaExtra = null;
        if (mode == HardMode.SAMPLE || mode == HardMode.EXPECTED) {
            dAlphaExtra = new double[steps][];
            double[] adv = new double[n];
            for (int b = 0; b < n; b++) adv[b] = choice.advantage() != null ? choice.advantage()[b] : logLik[b] - baseline();
            double perToken = 1.0 / batch.tokens();
            for (int t = 0; t < steps; t++) {
                // the reference's p in its own precision (double for gradient checks: float rounding would show there)
                double[] p = fast != null ? toDouble(fast.attention(t)) : ref.alphas[t].dup('c').data().asDouble();
                double[] dA = new double[n * l];
                for (int b = 0; b < n; b++) {
                    if (maskTB[t * n + b] == 0) continue;
                    for (int i = 0; i < l; i++) {
                        double pi = Math.max(p[b * l + i], 1e-30), logp = Math.log(pi);
                        hardTerms += HARD_ENTROPY * perToken * pi * logp;                    // - lambda_e H
                        dA[b * l + i] += HARD_ENTROPY * perToken * (logp + 1);
                    }
                    if (mode == HardMode.SAMPLE) {
                        int cell = fast != null ? fast.chosen[t][b] : ref.chosen[t][b];
                        double pc = Math.max(p[b * l + cell], 1e-30);
                        hardTerms -= HARD_REINFORCE * perToken * adv[b] * Math.log(pc);
                        dA[b * l + cell] -= HARD_REINFORCE * perToken * adv[b] / pc;
                    }
                }
                dAlphaExtra[t] = dA;
            }
        }
        if (!grads) {
            INDArray allProbs = probs.reshape(steps, n, v).permute(1, 2, 0).dup('c');        // [B,V,T]
            return new Pass(ce, reg, null, allProbs, hardTerms, meanLogLik);
        }

        Map<String, INDArray> g = params.zeroGradients();
        // output layer, all steps: d logits = (p - onehot(target)) * weight (mask / tokens)  [T*B,V]
        INDArray dLogits = probs;                                                            // reused in place
        for (int r = 0; r < rows; r++) {
            if (maskTB[r] != 0) {
                int w = (int) tgtIds[(r % n) * steps + r / n];
                dLogits.putScalar(r, w, dLogits.getDouble(r, w) - 1);
            }
        }
        dLogits.muliColumnVector(Nd4j.create(wTB, new long[] {rows, 1}, 'c').castTo(dt));
        acc(g.get("W_out"), hOut, dLogits);                                                  // [H,V]
        g.get("b_out").addi(dLogits.sum(true, 0));
        INDArray dhOut = dLogits.mmul(params.get("W_out").transpose());                      // [T*B,H]
        if (drop != null) dhOut.muli(drop);
        INDArray dCoverage = gap.mul(-2.0 * lambda / ((double) n * gap.size(1)));            // [B,L] d reg / d sum_t p_t

        // back-propagation through time, then the weight gradients of all steps at once ([in, T*B] x [T*B, out])
        INDArray hPrevAll, dGatesAll, dHAttAll, dBetaAll, dProj, dh0, dc0;
        if (fast != null) {
            FloatAttentionRecurrence.Gradients fg = fast.backward(dhOut.dup('c').data().asFloat(), dCoverage.dup('c').data().asFloat(),
                    dAlphaExtra == null ? null : java.util.Arrays.stream(dAlphaExtra).map(AttentionDecoder::toFloat).toArray(float[][]::new));
            hPrevAll = Nd4j.create(fast.hPrevAll(), new long[] {rows, h}, 'c');
            INDArray dCat = Nd4j.create(fg.dCat(), new long[] {rows, 4L * h + a + ch}, 'c'); // [T*B,K]
            INDArray gCat = Nd4j.gemm(hPrevAll, dCat, true, false);                          // [H,K] W_h | W_ha | W_beta
            g.get("W_h").assign(block(gCat, 0, 4 * h));
            g.get("W_ha").assign(gCat.get(NDArrayIndex.all(), NDArrayIndex.interval(4L * h, 4L * h + a)));
            g.get("W_beta").assign(gCat.get(NDArrayIndex.all(), NDArrayIndex.interval(4L * h + a, 4L * h + a + ch)));
            dGatesAll = block(dCat, 0, 4 * h).dup('c');
            dBetaAll = dCat.get(NDArrayIndex.all(), NDArrayIndex.interval(4L * h + a, 4L * h + a + ch));
            dProj = Nd4j.create(fg.dProj(), new long[] {(long) l * n, a}, 'c');
            g.get("w_att").addi(Nd4j.create(fg.dw(), new long[] {a, 1}, 'c'));
            dh0 = Nd4j.create(fg.dh0(), new long[] {n, h}, 'c');
            dc0 = Nd4j.create(fg.dc0(), new long[] {n, h}, 'c');
        } else {
            ref.backward(dhOut, dCoverage, g.get("w_att"), dAlphaExtra);
            hPrevAll = Nd4j.vstack(java.util.Arrays.copyOf(ref.hs, steps));                 // [T*B,H]  h_{t-1}
            dGatesAll = ref.dGatesAll;
            dHAttAll = ref.dHAttAll;
            dBetaAll = ref.dBetaAll;
            dProj = ref.dProj;
            dh0 = ref.dhNext;
            dc0 = ref.dcNext;
            acc(g.get("W_h"), hPrevAll, dGatesAll);
            acc(g.get("W_ha"), hPrevAll, dHAttAll);
            acc(g.get("W_beta"), hPrevAll, dBetaAll);
        }
        acc(g.get("W_x"), xAll, dGatesAll);
        acc(g.get("W_z"), zAll, dGatesAll);
        g.get("b").addi(dGatesAll.sum(true, 0));
        g.get("b_beta").addi(dBetaAll.sum(true, 0));
        acc(g.get("W_a"), gridLB, dProj);                                                    // [C,A]
        float[] dx = dGatesAll.mmul(params.get("W_x").transpose()).castTo(DataType.FLOAT).dup('c').data().asFloat(); // [T*B,E]
        double[] dE = new double[v * em];
        for (int r = 0; r < rows; r++) for (int k = 0; k < em; k++) dE[ids[r] * em + k] += dx[r * em + k];
        acc(g.get("W_h0"), mean, dh0);
        g.get("b_h0").addi(dh0.sum(true, 0));
        acc(g.get("W_c0"), mean, dc0);
        g.get("b_c0").addi(dc0.sum(true, 0));
        g.put("E", Nd4j.create(dE, new long[] {v, em}, 'c').castTo(dt));
        return new Pass(ce, reg, g, null, hardTerms, meanLogLik);
    }

    private static float[] toFloat(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) f[i] = (float) x[i];
        return f;
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }

    /** The most likely cell of p[off .. off+cells). */
    private static int argmax(int t, int b, float[] p, int off, int cells) {
        int best = 0;
        for (int i = 1; i < cells; i++) if (p[off + i] > p[off + best]) best = i;
        return best;
    }

    /** A cell drawn from p[off .. off+cells). */
    private int sample(float[] p, int off, int cells) {
        double u = cellRng.nextDouble(), acc = 0;
        for (int i = 0; i < cells; i++) {
            acc += p[off + i];
            if (u < acc) return i;
        }
        return cells - 1;                                                                    // rounding: the last cell
    }

    /** Hard attention's moving-average baseline of log p(y|s,a) (kept in checkpoints). */
    private double baseline() {
        return params.scalar(BASELINE);
    }

    /**
     * The reference recurrence: forward at construction, {@link #backward} on demand, as ND4J ops in the
     * parameters' data type. Slow (~70 small ops a step) but plain; used for double-precision gradient checks.
     */
    private final class Reference {
        final int n, steps;
        final boolean sparse = c.attentionMap() == AttentionMap.SPARSEMAX;
        final INDArray grid, projLB, maskCol;
        final INDArray hAll, zAll, coverage;
        final INDArray[] hs, cs, acts, alphas, ctxs, betas, gi, gf, go, gg, tanhC, masks;
        final int[][] chosen;                                                                // hard attention [T][B]
        INDArray dGatesAll, dBetaAll, dHAttAll, dProj, dhNext, dcNext;

        Reference(INDArray grid, INDArray projLB, INDArray gxAll, INDArray maskCol, INDArray h0, INDArray c0, int n, int steps,
                  FloatAttentionRecurrence.CellChoice pick) {
            this.chosen = pick == null ? null : new int[steps][n];
            this.grid = grid;
            this.projLB = projLB;
            this.maskCol = maskCol;
            this.n = n;
            this.steps = steps;
            DataType dt = grid.dataType();
            int l = c.gridCells(), ch = c.gridChannels(), a = c.attentionSize(), h = c.hidden(), rows = n * steps;
            hAll = Nd4j.create(dt, rows, h);
            zAll = Nd4j.create(dt, rows, ch);
            hs = new INDArray[steps + 1]; cs = new INDArray[steps + 1]; acts = new INDArray[steps]; alphas = new INDArray[steps];
            ctxs = new INDArray[steps]; betas = new INDArray[steps]; gi = new INDArray[steps]; gf = new INDArray[steps];
            go = new INDArray[steps]; gg = new INDArray[steps]; tanhC = new INDArray[steps]; masks = new INDArray[steps];
            hs[0] = h0;
            cs[0] = c0;
            coverage = Nd4j.zeros(dt, n, l);                                                 // [B,L] sum_t p_t (real steps)
            for (int t = 0; t < steps; t++) {
                masks[t] = rowsOf(maskCol, t, n);                                            // [B,1]
                INDArray hp = hs[t];
                INDArray hAtt = hp.mmul(params.get("W_ha"));                                // [B,A]
                INDArray act = projLB.reshape(l, (long) n * a).addRowVector(hAtt.reshape(1, (long) n * a)); // [L,B*A]
                Transforms.tanh(act, false);                                                 // in place
                act = act.reshape((long) l * n, a);                                          // [L*B,A]
                INDArray e = act.mmul(params.get("w_att")).reshape(l, n);                   // [L,B]
                INDArray scores = e.transpose().dup('c');                                    // [B,L]
                INDArray alpha = sparse ? Sparsemax.rows(scores) : Transforms.softmax(scores, false); // [B,L]
                INDArray read = alpha;                                                       // [B,L] weights the context reads with
                if (pick != null) {                                                          // hard: one-hot on the chosen cell
                    float[] pf = alpha.castTo(DataType.FLOAT).dup('c').data().asFloat();
                    read = Nd4j.zeros(dt, n, l);
                    for (int b = 0; b < n; b++) {
                        chosen[t][b] = pick.pick(t, b, pf, b * l, l);
                        read.putScalar(b, chosen[t][b], 1.0);
                    }
                }
                INDArray ctx = Nd4j.matmul(read.reshape(n, 1, l), grid).reshape(n, ch);      // [B,C]  sum_i read_i a_i
                INDArray beta = sigmoid(hp.mmul(params.get("W_beta")).addiRowVector(params.get("b_beta"))); // [B,C]
                INDArray z = beta.mul(ctx);                                                  // [B,C]
                INDArray gates = rowsOf(gxAll, t, n).dup('c');                               // [B,4H]
                Nd4j.gemm(z, params.get("W_z"), gates, false, false, 1.0, 1.0);             //   + z_t W_z
                Nd4j.gemm(hp, params.get("W_h"), gates, false, false, 1.0, 1.0);            //   + h_{t-1} W_h
                INDArray i_ = sigmoid(block(gates, 0, h).dup()), f_ = sigmoid(block(gates, 1, h).dup()),
                        o_ = sigmoid(block(gates, 2, h).dup()), g_ = Transforms.tanh(block(gates, 3, h).dup(), false);
                INDArray cNew = f_.mul(cs[t]).addi(i_.mul(g_));                              // [B,H]
                INDArray tc = Transforms.tanh(cNew, true);
                INDArray hNew = o_.mul(tc);                                                  // [B,H]
                coverage.addi(alpha.mulColumnVector(masks[t]));
                rowsOf(hAll, t, n).assign(hNew);
                rowsOf(zAll, t, n).assign(z);
                acts[t] = act; alphas[t] = alpha; ctxs[t] = ctx; betas[t] = beta;
                gi[t] = i_; gf[t] = f_; go[t] = o_; gg[t] = g_; tanhC[t] = tc;
                hs[t + 1] = hNew;
                cs[t + 1] = cNew;
            }
        }

        /** Fills the per-step gradients; adds d(w_att) into {@code dwAtt}; {@code dAlphaExtra} as the float path's. */
        void backward(INDArray dhOut, INDArray dCoverage, INDArray dwAtt, double[][] dAlphaExtra) {
            DataType dt = grid.dataType();
            int l = c.gridCells(), ch = c.gridChannels(), a = c.attentionSize(), h = c.hidden(), rows = n * steps;
            dGatesAll = Nd4j.create(dt, rows, 4L * h);
            dBetaAll = Nd4j.create(dt, rows, ch);
            dHAttAll = Nd4j.create(dt, rows, a);
            dProj = Nd4j.zeros(dt, (long) l * n, a);                                         // d(a_i W_a) [L*B,A]
            INDArray wAttRow = params.get("w_att").reshape(1, a);
            dhNext = Nd4j.zeros(dt, n, h);
            dcNext = Nd4j.zeros(dt, n, h);
            for (int t = steps - 1; t >= 0; t--) {
                INDArray dh = rowsOf(dhOut, t, n).add(dhNext);                               // [B,H]
                // LSTM cell
                INDArray dO = dh.mul(tanhC[t]);
                INDArray dc = dh.mul(go[t]).muli(tanhC[t].mul(tanhC[t]).rsubi(1.0)).addi(dcNext);
                INDArray dI = dc.mul(gg[t]), dF = dc.mul(cs[t]), dG = dc.mul(gi[t]);
                dcNext = dc.mul(gf[t]);
                INDArray dGates = rowsOf(dGatesAll, t, n);                                   // [B,4H] view
                block(dGates, 0, h).assign(dI.muli(gi[t].mul(gi[t].rsub(1.0))));
                block(dGates, 1, h).assign(dF.muli(gf[t].mul(gf[t].rsub(1.0))));
                block(dGates, 2, h).assign(dO.muli(go[t].mul(go[t].rsub(1.0))));
                block(dGates, 3, h).assign(dG.muli(gg[t].mul(gg[t]).rsubi(1.0)));
                INDArray dz = dGates.mmul(params.get("W_z").transpose());                    // [B,C]
                INDArray dhPrev = dGates.mmul(params.get("W_h").transpose());                // [B,H]
                // gate beta and context
                INDArray dBetaPre = dz.mul(ctxs[t]).muli(betas[t].mul(betas[t].rsub(1.0)));  // [B,C]
                rowsOf(dBetaAll, t, n).assign(dBetaPre);
                Nd4j.gemm(dBetaPre, params.get("W_beta"), dhPrev, false, true, 1.0, 1.0);   // dhPrev += dBetaPre W_beta^T
                INDArray dCtx = dz.mul(betas[t]);                                            // [B,C]
                INDArray dAlpha = chosen != null ? Nd4j.zeros(dt, n, l)                      // hard: the context ignores p
                        : Nd4j.matmul(grid, dCtx.reshape(n, ch, 1)).reshape(n, l);           // [B,L]  a_i . dctx
                if (dAlphaExtra != null && dAlphaExtra[t] != null) {
                    dAlpha.addi(Nd4j.create(dAlphaExtra[t], new long[] {n, l}, 'c').castTo(dt));
                }
                dAlpha.addi(dCoverage.mulColumnVector(masks[t]));                            // coverage regulariser
                // softmax: de = p * (dp - sum_j p_j dp_j); sparsemax: dp - mean of dp over the support, on it
                INDArray alpha = alphas[t];
                INDArray de = sparse ? Sparsemax.rowsBackward(alpha, dAlpha)
                        : alpha.mul(dAlpha.subColumnVector(alpha.mul(dAlpha).sum(true, 1)));  // [B,L]
                INDArray deLB = de.transpose().dup('c').reshape((long) l * n, 1);             // [L*B,1]
                INDArray act = acts[t];                                                      // [L*B,A]
                acc(dwAtt, act, deLB);                                                       // [A,1]
                INDArray dPre = act.mul(act).rsubi(1.0).muliRowVector(wAttRow).muliColumnVector(deLB); // [L*B,A]
                dProj.addi(dPre);
                INDArray dHAtt = dPre.reshape(l, (long) n * a).sum(0).reshape(n, a);         // [B,A]  sum over cells
                rowsOf(dHAttAll, t, n).assign(dHAtt);
                Nd4j.gemm(dHAtt, params.get("W_ha"), dhPrev, false, true, 1.0, 1.0);        // dhPrev += dHAtt W_ha^T
                dhNext = dhPrev;
            }
        }
    }

    /** Per-step [L*B,A] activations of the float path, kept between batches (allocating 11 MB a step was slow). */
    private float[][] actPool = new float[0][];

    private float[] actBuffer(int t, int size) {
        if (actPool.length <= t) actPool = java.util.Arrays.copyOf(actPool, t + 1);
        if (actPool[t] == null || actPool[t].length < size) actPool[t] = new float[size];
        return actPool[t];
    }

    private static int rows(int l, int n, int a) {
        return Math.multiplyExact(Math.multiplyExact(l, n), a);
    }

    /** Hard attention: half the batches sample cells, half read the expected context (the paper's section 4.1). */
    @Override
    public synchronized double fit(CaptionBatch batch) {
        if (!hard) return update(pass(batch, true, true));
        HardMode mode = cellRng.nextBoolean() ? HardMode.SAMPLE : HardMode.EXPECTED;
        Pass p = pass(batch, true, true, null, new HardChoice(mode, null, null));
        if (mode == HardMode.SAMPLE) {
            // b_k = 0.9 b_{k-1} + 0.1 log p(y|s_k,a), as arctic-captions (mean over the batch's captions)
            params.setScalar(BASELINE, HARD_BASELINE_DECAY * baseline() + (1 - HARD_BASELINE_DECAY) * p.logLikelihood());
        }
        return update(p);
    }

    /** Without dropout: the policy being improved is the one that sampled the captions. */
    @Override
    public synchronized double fitWeighted(CaptionBatch batch, float[] weights) {
        if (weights.length != batch.size() * batch.inputs().size(2)) throw new IllegalArgumentException("one weight per caption step expected");
        return update(pass(batch, false, true, weights));
    }

    /** One Adam step on a pass's gradients with global gradient-norm clipping; returns its loss. */
    private double update(Pass p) {
        params.update(p.gradients());
        return p.crossEntropy();
    }

    @Override
    public synchronized double loss(CaptionBatch batch) {
        return pass(batch, false, false).crossEntropy();
    }

    @Override
    public synchronized INDArray sequenceProbabilities(CaptionBatch batch) {
        return pass(batch, false, false).probabilities();                                   // [B,V,T]
    }

    // ---------------------------------------------------------------- step-by-step decoding

    /**
     * Decoding state of N captions. The grids and their projections of the M images stay on the heap for the float
     * loops, shared: caption b reads image {@code image[b]}, so selecting beams copies indices, not 49 x 1,280 floats
     * a beam a step.
     */
    private final class State implements DecodingState {
        final int n;
        final float[] grid;       // [M,L,C]
        final float[] gridProj;   // [M,L,A]  a_i W_a
        final int[] image;        // [N] caption -> image
        INDArray h, cell;         // [N,H]
        INDArray alpha;           // [N,L] last step's attention

        State(int n, float[] grid, float[] gridProj, int[] image, INDArray h, INDArray cell, INDArray alpha) {
            this.n = n;
            this.grid = grid;
            this.gridProj = gridProj;
            this.image = image;
            this.h = h;
            this.cell = cell;
            this.alpha = alpha;
        }

        @Override
        public int size() {
            return n;
        }

        @Override
        public DecodingState select(int[] rows) {
            int[] img = new int[rows.length];
            for (int i = 0; i < rows.length; i++) img[i] = image[rows[i]];
            return new State(rows.length, grid, gridProj, img, h.getRows(rows), cell.getRows(rows),
                    alpha == null ? null : alpha.getRows(rows));
        }

        @Override
        public INDArray lastAttention() {
            return alpha;
        }
    }

    @Override
    public DecodingState start(INDArray vectors, INDArray grids) {
        if (grids == null) throw new IllegalArgumentException("the attention decoder needs feature grids");
        long n = grids.size(0);
        int l = c.gridCells(), ch = c.gridChannels();
        INDArray g = grids.castTo(DataType.FLOAT).dup('c');
        INDArray proj = g.reshape(n * l, ch).mmul(params.get("W_a"));                         // [N*L,A]
        INDArray mean = g.mean(1);                                                           // [N,C]
        INDArray h0 = mean.mmul(params.get("W_h0")).addiRowVector(params.get("b_h0"));      // [N,H]
        INDArray c0 = mean.mmul(params.get("W_c0")).addiRowVector(params.get("b_c0"));      // [N,H]
        return new State((int) n, g.data().asFloat(), proj.dup('c').data().asFloat(), java.util.stream.IntStream.range(0, (int) n).toArray(),
                h0, c0, null);
    }

    @Override
    public synchronized INDArray step(DecodingState state, int[] tokens) {
        State s = (State) state;
        int n = s.size(), l = c.gridCells(), a = c.attentionSize(), h = c.hidden(), ch = c.gridChannels();
        INDArray x = params.get("E").getRows(tokens);                                        // [N,E] (lookup = one-hot x E)
        INDArray hAtt = s.h.mmul(params.get("W_ha"));                                        // [N,A]
        // scores and context by the training pass's float loops (image-major here): same numbers, far fewer ops
        AttentionScoreKernel k = new AttentionScoreKernel(s.gridProj, s.image, params.get("w_att").dup('c').data().asFloat(), l, n, a, false);
        float[] e = k.forward(hAtt.dup('c').data().asFloat());                               // [N*L]
        INDArray alpha;                                                                      // [N,L]
        if (c.attentionMap() == AttentionMap.SPARSEMAX) {
            float[] p = new float[n * l];
            for (int b = 0; b < n; b++) Sparsemax.forward(e, b * l, 1, p, b * l, l);
            alpha = Nd4j.create(p, new long[] {n, l}, 'c');
        } else {
            alpha = Transforms.softmax(Nd4j.create(e, new long[] {n, l}, 'c'));
        }
        float[] read = alpha.dup('c').data().asFloat();                                      // [N*L] weights the context reads with
        if (hard) {                                                                          // decoding reads the most likely cell
            float[] oneHot = new float[n * l];
            for (int b = 0; b < n; b++) oneHot[b * l + argmax(0, b, read, b * l, l)] = 1f;
            read = oneHot;
        }
        INDArray context = Nd4j.create(AttentionScoreKernel.context(s.grid, s.image, read, n, l, ch),
                new long[] {n, ch}, 'c');                                                    // [N,C]  sum_i p_i a_i
        INDArray gate = Transforms.sigmoid(s.h.mmul(params.get("W_beta")).addiRowVector(params.get("b_beta")), false);
        INDArray z = gate.muli(context);                                                     // [N,C]
        INDArray gates = x.mmul(params.get("W_x")).addi(z.mmul(params.get("W_z"))).addi(s.h.mmul(params.get("W_h")))
                .addiRowVector(params.get("b"));                                             // [N,4H]
        INDArray ig = Transforms.sigmoid(block(gates, 0, h), true);
        INDArray fg = Transforms.sigmoid(block(gates, 1, h), true);
        INDArray og = Transforms.sigmoid(block(gates, 2, h), true);
        INDArray gg = Transforms.tanh(block(gates, 3, h), true);
        s.cell = fg.mul(s.cell).addi(ig.mul(gg));                                            // [N,H]
        s.h = og.mul(Transforms.tanh(s.cell, true));                                         // [N,H]
        s.alpha = alpha;
        INDArray logits = s.h.mmul(params.get("W_out")).addiRowVector(params.get("b_out")); // [N,V]
        return Transforms.softmax(logits);
    }

    // ---------------------------------------------------------------- persistence

    public static AttentionDecoder load(DecoderConfig c, Path file, boolean withUpdater, double learningRate, double lambda) throws IOException {
        ParameterSet ps = ParameterSet.load(file, PARAMS, withUpdater, learningRate, "an attention decoder");
        if (ps.get("E").size(0) != c.vocabSize()) {
            throw new IOException(file + ": the network has " + ps.get("E").size(0) + " words but the vocabulary has " + c.vocabSize());
        }
        return new AttentionDecoder(c, ps, lambda, 42);
    }
}
