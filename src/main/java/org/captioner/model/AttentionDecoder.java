package org.captioner.model;

import org.captioner.layers.AdditiveAttention;
import org.captioner.layers.Embedding;
import org.captioner.layers.GridProjection;
import org.captioner.layers.Linear;
import org.captioner.layers.LstmCell;
import org.captioner.layers.Parameters;
import org.captioner.layers.RecurrentCell;
import org.captioner.layers.WeightedCrossEntropy;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * Show, Attend and Tell: an LSTM that, at each step, attends over the L cells of the feature grid.
 * Shapes: B batch, L grid cells, C grid channels (or their projection's P), A attention size, E embedding, H hidden,
 * V vocabulary.
 * <pre>
 *   a_i      = relu(a_i W_g + b_g)  with --context-projection P      [B,L,P]  once per image (else the grid as it is)
 *   h_0, c_0 = mean_i(a_i) W_h0 + b_h0, mean_i(a_i) W_c0 + b_c0     [B,H]
 *   p_t, ctx_t = attention(grid, h_{t-1})                           [B,L], [B,C]  (AdditiveAttention)
 *   z_t      = sigmoid(h_{t-1} W_beta + b_beta) * ctx_t             [B,C]   gated context
 *   h_t, c_t = LSTM(x_t W_x + z_t W_z, h_{t-1}, c_{t-1})             [B,H]   LSTM input [x_t; z_t]
 *   y_t      = dropout(h_t) W_out + b_out                           [B,V]
 *   loss     = cross-entropy per target token + lambda * mean_b mean_i (1 - sum_t p_ti)^2
 * </pre>
 * The doubly stochastic regulariser is averaged over the L cells, as the Show-Attend-Tell tutorial and the
 * PyTorch baseline do; summed over cells its optimum, with fewer words than cells, is uniform attention.
 * Hard attention (the {@code hard-attention} decoder) reads one cell per step, drawn from p_t, and trains the map by
 * REINFORCE (Xu et al. 2015, eq. 12). Products that do not feed the recurrence (x_t W_x, the output layer, the weight
 * gradients of W_x, W_z) run for all steps at once; the steps run the same layers in training and decoding.
 */
public final class AttentionDecoder extends LayerDecoder {
    private static final String[] PARAMS = {"E", "W_a", "W_ha", "w_att", "W_beta", "b_beta", "W_x", "W_z", "W_h", "b",
            "W_h0", "b_h0", "W_c0", "b_c0", "W_out", "b_out"};

    /** The parameter names: with a context projection also W_g [C,P], b_g [1,P]. */
    static String[] names(DecoderConfig c) {
        if (c.contextProjection() == 0) return PARAMS;
        String[] n = java.util.Arrays.copyOf(PARAMS, PARAMS.length + 2);
        n[PARAMS.length] = "W_g";
        n[PARAMS.length + 1] = "b_g";
        return n;
    }

    private static final String BASELINE = "hard_baseline";   // hard attention's moving-average reward baseline

    private final double lambda;
    private final Random cellRng;
    private final boolean hard;
    private final Embedding embed;
    private final Linear inX, inZ, gate, initH, initC, out;
    private final GridProjection projectContext;
    private final LstmCell lstm;
    private final AdditiveAttention attention;

    private AttentionDecoder(DecoderConfig c, Parameters params, double lambda, long seed) {
        super(c, params, seed);
        this.lambda = lambda;
        this.cellRng = new Random(seed + 1);
        this.hard = c.type() == DecoderType.HARD_ATTENTION;
        embed = new Embedding(params, "E");
        inX = new Linear(params, "W_x", null);
        inZ = new Linear(params, "W_z", null);
        gate = new Linear(params, "W_beta", "b_beta");
        initH = new Linear(params, "W_h0", "b_h0");
        initC = new Linear(params, "W_c0", "b_c0");
        out = new Linear(params, "W_out", "b_out");
        projectContext = c.contextProjection() > 0 ? new GridProjection(params, "W_g", "b_g", c.contextProjection()) : null;
        lstm = new LstmCell(params, "W_h", "b", c.hidden());
        attention = new AdditiveAttention(params, c.attentionMap() == AttentionMap.SPARSEMAX, c.gridCells(), c.contextChannels(), c.attentionSize());
    }

    public static AttentionDecoder create(DecoderConfig c, double learningRate, double lambda, long seed) {
        return create(c, learningRate, lambda, seed, DataType.FLOAT);
    }

    /** With parameters in {@code dtype} (DOUBLE for gradient checks). */
    public static AttentionDecoder create(DecoderConfig c, double learningRate, double lambda, long seed, DataType dtype) {
        int v = c.vocabSize(), e = c.embedSize(), ch = c.contextChannels(), a = c.attentionSize(), h = c.hidden();
        Nd4j.getRandom().setSeed(seed);
        long[][] shapes = {{v, e}, {ch, a}, {h, a}, {a, 1}, {h, ch}, {1, ch}, {e, 4L * h}, {ch, 4L * h}, {h, 4L * h}, {1, 4L * h},
                {ch, h}, {1, h}, {ch, h}, {1, h}, {h, v}, {1, v}, {c.gridChannels(), ch}, {1, ch}};
        // PyTorch's initialisation, as in the Show-Attend-Tell tutorial the baseline follows: embedding and output
        // layer U(-0.1, 0.1) (output bias 0); every other weight and bias U(+-1/sqrt(fan-in)), the LSTM's with
        // fan-in H as nn.LSTMCell. (Xavier everywhere learnt slower: dev CIDEr-D 0.206 after epoch 1.)
        Map<String, INDArray> initial = new HashMap<>();
        String[] names = names(c);
        for (int i = 0; i < names.length; i++) {
            double r = switch (names[i]) {
                case "E", "W_out" -> 0.1;
                case "b_out" -> 0.0;
                case "W_g", "b_g" -> 1 / Math.sqrt(c.gridChannels());
                case "W_a", "W_h0", "b_h0", "W_c0", "b_c0" -> 1 / Math.sqrt(ch);                // fan-in C
                case "w_att" -> 1 / Math.sqrt(a);
                default -> 1 / Math.sqrt(h);                     // W_ha, W_beta, b_beta; LSTM W_x, W_z, W_h, b
            };
            initial.put(names[i], Parameters.uniform(dtype, r, shapes[i]));
        }
        Parameters ps = new Parameters(names, learningRate);
        ps.init(initial);
        return new AttentionDecoder(c, ps, lambda, seed);
    }

    public static AttentionDecoder load(DecoderConfig c, Path file, boolean withUpdater, double learningRate, double lambda) throws IOException {
        return new AttentionDecoder(c, load(file, names(c), withUpdater, learningRate, "an attention decoder", c.vocabSize()), lambda, 42);
    }

    // ---------------------------------------------------------------- training

    @Override
    Pass pass(CaptionBatch batch, Rows rows, boolean train, boolean grads) {
        return pass(batch, rows, train, grads, null);
    }

    /** {@code choice}: for hard attention (ignored by soft); null = {@link HardAttention.Mode#ARGMAX}. */
    synchronized Pass pass(CaptionBatch batch, boolean train, boolean grads, float[] weights, HardAttention.Choice choice) {
        return pass(batch, Rows.of(batch, weights), train, grads, choice);
    }

    private Pass pass(CaptionBatch batch, Rows rows, boolean train, boolean grads, HardAttention.Choice choice) {
        HardAttention.Mode mode = !hard ? null : choice == null ? HardAttention.Mode.ARGMAX : choice.mode();
        AdditiveAttention.CellChoice pick = HardAttention.cells(mode, choice, cellRng);
        DataType dt = params.get("E").dataType();
        int n = rows.n(), steps = rows.steps(), l = c.gridCells(), h = c.hidden();
        INDArray raw = batch.grids().castTo(dt), grids = projectContext == null ? raw : projectContext.forward(raw); // [B,L,C]
        INDArray mean = grids.mean(1);                                                      // [B,C]
        AdditiveAttention.Grid grid = attention.project(grids, grads && projectContext != null);
        INDArray x = embed.forward(rows.inputs());                                          // [T*B,E]
        INDArray gx = inX.forward(x);                                                       // [T*B,4H]  x_t W_x, all steps
        INDArray hAll = Nd4j.create(dt, (long) n * steps, h), zAll = Nd4j.create(dt, (long) n * steps, c.contextChannels());
        INDArray coverage = Nd4j.zeros(dt, n, l), masks = Nd4j.create(rows.mask(), new long[] {steps, n}, 'c').castTo(dt);
        INDArray[] state = {initH.forward(mean), initC.forward(mean)};
        AdditiveAttention.Step[] reads = new AdditiveAttention.Step[steps];
        RecurrentCell.Step[] cells = new RecurrentCell.Step[steps];
        INDArray[] betas = new INDArray[steps], hPrev = new INDArray[steps];
        for (int t = 0; t < steps; t++) {
            hPrev[t] = state[0];
            reads[t] = attention.forward(grid, null, state[0], pick, t, grads);
            betas[t] = Transforms.sigmoid(gate.forward(state[0]), false);                 // [B,C]
            INDArray z = betas[t].mul(reads[t].context());                                  // [B,C]
            cells[t] = lstm.forward(rows.step(gx, t).dup().addi(inZ.forward(z)), state);
            state = cells[t].state();
            rows.step(hAll, t).assign(state[0]);
            rows.step(zAll, t).assign(z);
            coverage.addi(reads[t].weights().castTo(dt).mulColumnVector(masks.getRow(t).reshape(n, 1)));
        }
        INDArray drop = dropout.mask(train, (long) n * steps, h, dt), hOut = org.captioner.layers.Dropout.apply(hAll, drop);
        var ce = WeightedCrossEntropy.forward(out.forward(hOut), rows.targets(), rows.weights(), rows.mask());
        INDArray gap = coverage.rsub(1.0);                                                   // [B,L] 1 - sum_t p_t
        double reg = lambda * gap.mul(gap).sumNumber().doubleValue() / ((double) n * l);   // mean over B and L
        double[] logLik = new double[n];                                                     // per caption sum_t log p(w_t)
        for (int r = 0; r < n * steps; r++) logLik[r % n] += ce.logProbability()[r];
        double meanLogLik = java.util.Arrays.stream(logLik).average().orElse(0);
        HardAttention.Terms ht = mode == HardAttention.Mode.SAMPLE || mode == HardAttention.Mode.EXPECTED
                ? HardAttention.terms(reads, rows, logLik, choice, params.scalar(BASELINE), c.gridCells()) : null;
        double penalty = reg + (ht == null ? 0 : ht.loss());
        if (!grads) return new Pass(ce.loss(), penalty, null, ce.probabilities(), meanLogLik);

        Map<String, INDArray> g = params.zeroGradients();
        INDArray dLogits = WeightedCrossEntropy.backward(ce, rows.targets(), rows.weights(), rows.mask());
        out.backward(hOut, dLogits, g);
        INDArray dhOut = org.captioner.layers.Dropout.apply(out.inputGradient(dLogits), drop);  // [T*B,H]
        INDArray dCoverage = gap.mul(-2.0 * lambda / ((double) n * l));                     // [B,L] d reg / d sum_t p_t
        INDArray dGatesAll = Nd4j.create(dt, (long) n * steps, 4L * h);
        INDArray[] dNext = {Nd4j.zeros(dt, n, h), null};
        for (int t = steps - 1; t >= 0; t--) {
            RecurrentCell.Gradients d = lstm.backward(cells[t], new INDArray[] {rows.step(dhOut, t).add(dNext[0]), dNext[1]}, g);
            rows.step(dGatesAll, t).assign(d.dIn());
            INDArray dz = inZ.inputGradient(d.dIn()), dhPrev = d.dPrev()[0];                // [B,C], [B,H]
            INDArray dBetaPre = dz.mul(reads[t].context()).muli(betas[t].mul(betas[t].rsub(1.0)));
            gate.backward(hPrev[t], dBetaPre, g);
            gate.addInputGradient(dBetaPre, dhPrev);
            INDArray dWeights = dCoverage.mulColumnVector(masks.getRow(t).reshape(n, 1));   // coverage regulariser
            if (ht != null) dWeights.addi(Nd4j.create(ht.dWeights()[t], new long[] {n, l}, 'c').castTo(dt));
            dhPrev.addi(attention.backward(grid, reads[t], dz.muli(betas[t]), dWeights, g)); // d ctx = dz * beta
            dNext = new INDArray[] {dhPrev, d.dPrev()[1]};
        }
        INDArray dGrid = attention.finish(grid, g);                                          // [B*L,P] or null
        if (projectContext != null) {
            INDArray dMean = initH.inputGradient(dNext[0]).addi(initC.inputGradient(dNext[1])).divi(l);   // [B,P]
            dGrid.reshape(n, (long) l * c.contextProjection()).addi(Nd4j.tile(dMean, 1, l));   // the mean's share per cell
            projectContext.backward(raw, grids, dGrid, g);
        }
        inX.backward(x, dGatesAll, g);
        inZ.backward(zAll, dGatesAll, g);
        embed.backward(rows.inputs(), inX.inputGradient(dGatesAll), g);
        initH.backward(mean, dNext[0], g);
        initC.backward(mean, dNext[1], g);
        return new Pass(ce.loss(), penalty, g, null, meanLogLik);
    }

    /** Hard attention: half the batches sample cells, half read the expected context (the paper's section 4.1). */
    @Override
    public synchronized double fit(CaptionBatch batch) {
        if (!hard) return super.fit(batch);
        HardAttention.Mode mode = cellRng.nextBoolean() ? HardAttention.Mode.SAMPLE : HardAttention.Mode.EXPECTED;
        return inWorkspace(() -> {
            Pass p = pass(batch, true, true, null, new HardAttention.Choice(mode, null, null));
            if (mode == HardAttention.Mode.SAMPLE) {
                // b_k = 0.9 b_{k-1} + 0.1 log p(y|s_k,a), as arctic-captions (mean over the batch's captions)
                double decay = HardAttention.BASELINE_DECAY;
                params.setScalar(BASELINE, decay * params.scalar(BASELINE) + (1 - decay) * p.logLikelihood());
            }
            return update(p);
        });
    }

    // ---------------------------------------------------------------- step-by-step decoding

    /** N captions being decoded: caption b reads image {@code image[b]} of the shared grid (beams copy indices, not grids). */
    private final class State implements DecodingState {
        final AdditiveAttention.Grid grid;
        final int[] image;        // [N] caption -> image
        INDArray h, cell;         // [N,H]
        INDArray alpha;           // [N,L] last step's attention

        State(AdditiveAttention.Grid grid, int[] image, INDArray h, INDArray cell, INDArray alpha) {
            this.grid = grid;
            this.image = image;
            this.h = h;
            this.cell = cell;
            this.alpha = alpha;
        }

        @Override
        public int size() {
            return image.length;
        }

        @Override
        public DecodingState select(int[] rows) {
            int[] img = new int[rows.length];
            for (int i = 0; i < rows.length; i++) img[i] = image[rows[i]];
            return new State(grid, img, h.getRows(rows), cell.getRows(rows), alpha == null ? null : alpha.getRows(rows));
        }

        @Override
        public INDArray lastAttention() {
            return alpha;
        }
    }

    @Override
    public DecodingState start(INDArray vectors, INDArray grids) {
        if (grids == null) throw new IllegalArgumentException("the attention decoder needs feature grids");
        INDArray g = grids.castTo(DataType.FLOAT);
        if (projectContext != null) g = projectContext.forward(g);                           // [N,L,C]
        INDArray mean = g.mean(1);                                                          // [N,C]
        return new State(attention.project(g, false), java.util.stream.IntStream.range(0, (int) g.size(0)).toArray(),
                initH.forward(mean), initC.forward(mean), null);
    }

    @Override
    public synchronized INDArray step(DecodingState state, int[] tokens) {
        State s = (State) state;
        AdditiveAttention.Step read = attention.forward(s.grid, s.image, s.h, hard ? HardAttention::argmax : null, 0, false);
        INDArray z = Transforms.sigmoid(gate.forward(s.h), false).muli(read.context());     // [N,C]
        INDArray[] next = lstm.forward(inX.forward(embed.forward(tokens)).addi(inZ.forward(z)), new INDArray[] {s.h, s.cell}).state();
        s.h = next[0];
        s.cell = next[1];
        s.alpha = read.weights();
        return Transforms.softmax(out.forward(s.h));                                        // [N,V]
    }
}
