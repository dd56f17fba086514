package org.captioner.model;

import org.captioner.util.AtomicFiles;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Show, Attend and Tell: an LSTM that, at each step, attends over the L cells of the feature grid.
 * Shapes: B batch, L grid cells, C grid channels, A attention size, E embedding, H hidden, V vocabulary.
 * <pre>
 *   h_0, c_0 = mean_i(a_i) W_h0 + b, mean_i(a_i) W_c0 + b          [B,H]
 *   e_ti     = w . tanh(a_i W_a + h_{t-1} W_ha)                     [B,L]   additive attention
 *   p_t      = softmax_i(e_t)                                      [B,L]   (kept for visualisation)
 *   z_t      = sigmoid(h_{t-1} W_beta + b_beta) * sum_i p_ti a_i   [B,C]   gated context
 *   gates    = x_t W_x + z_t W_z + h_{t-1} W_h + b                 [B,4H]  LSTM input is [x_t; z_t]
 *   h_t      = LSTM(gates, c_{t-1});  y_t = dropout(h_t) W_out + b [B,V]
 *   loss     = mean over target tokens of -log p(w_t) + lambda * sum_i (1 - sum_t p_ti)^2 / B
 * </pre>
 * Training: a SameDiff graph unrolled over the batch's T steps (one graph per caption length, all sharing
 * the same parameter arrays), gradients from SameDiff, Adam and global-norm clipping applied here.
 * Decoding: the same formulas with plain ND4J operations on the same arrays ({@link #step}).
 * M2.1 workarounds: word embeddings are one-hot x E products (the gradient of gather crashes), grid
 * projections are reshape + mmul (tensorMmul's backward crashes).
 */
public final class AttentionDecoder implements CaptionDecoder {
    private static final double CLIP_NORM = 5.0;
    private static final String[] PARAMS = {"E", "W_a", "W_ha", "w_att", "W_beta", "b_beta", "W_x", "W_z", "W_h", "b",
            "W_h0", "b_h0", "W_c0", "b_c0", "W_out", "b_out"};

    private final DecoderConfig c;
    private final double lambda;
    private final Map<String, INDArray> params = new LinkedHashMap<>();
    private final Map<String, AdamUpdater> adam = new HashMap<>();
    private final Map<String, INDArray> adamState = new HashMap<>();
    private final Map<Integer, SameDiff> graphs = new HashMap<>();
    private double learningRate;
    private int iteration;
    private final Random dropoutRng;

    private AttentionDecoder(DecoderConfig c, double learningRate, double lambda, long seed) {
        this.c = c;
        this.lambda = lambda;
        this.learningRate = learningRate;
        this.dropoutRng = new Random(seed);
    }

    public static AttentionDecoder create(DecoderConfig c, double learningRate, double lambda, long seed) {
        AttentionDecoder d = new AttentionDecoder(c, learningRate, lambda, seed);
        int v = c.vocabSize(), e = c.embedSize(), ch = c.gridChannels(), a = c.attentionSize(), h = c.hidden();
        Nd4j.getRandom().setSeed(seed);
        long[][] shapes = {{v, e}, {ch, a}, {h, a}, {a, 1}, {h, ch}, {1, ch}, {e, 4L * h}, {ch, 4L * h}, {h, 4L * h}, {1, 4L * h},
                {ch, h}, {1, h}, {ch, h}, {1, h}, {h, v}, {1, v}};
        for (int i = 0; i < PARAMS.length; i++) {
            long[] s = shapes[i];
            INDArray p = PARAMS[i].startsWith("b") ? Nd4j.zeros(DataType.FLOAT, s)
                    : Nd4j.randn(DataType.FLOAT, s).muli(Math.sqrt(2.0 / (s[0] + s[1])));   // Xavier (normal)
            d.params.put(PARAMS[i], p);
        }
        d.params.get("b").get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(h, 2L * h)).assign(1.0); // forget-gate bias 1
        d.initAdam();
        return d;
    }

    private void initAdam() {
        for (String n : PARAMS) {
            INDArray p = params.get(n);
            AdamUpdater u = new AdamUpdater(new Adam(learningRate));
            INDArray state = adamState.computeIfAbsent(n, k -> Nd4j.zeros(DataType.FLOAT, 1, 2 * p.length()));
            u.setStateViewArray(state, p.shape(), 'c', false);
            adam.put(n, u);
        }
    }

    @Override
    public DecoderConfig config() {
        return c;
    }

    // ---------------------------------------------------------------- training graph (SameDiff)

    /** The graph for captions of T steps; built once per T. */
    private SameDiff graph(int t) {
        return graphs.computeIfAbsent(t, this::buildGraph);
    }

    private SameDiff buildGraph(int steps) {
        SameDiff sd = SameDiff.create();
        int l = c.gridCells(), ch = c.gridChannels(), a = c.attentionSize(), h = c.hidden();
        Map<String, SDVariable> p = new HashMap<>();
        for (String n : PARAMS) p.put(n, sd.var(n, params.get(n)));
        SDVariable grid = sd.placeHolder("grid", DataType.FLOAT, -1, l, ch);               // [B,L,C]
        SDVariable gridFlat = grid.reshape(-1, ch);                                       // [B*L,C]
        SDVariable gridProj = gridFlat.mmul(p.get("W_a")).reshape(-1, l, a);              // [B,L,A]  a_i W_a, once per batch
        SDVariable mean = grid.mean(1);                                                   // [B,C]
        SDVariable hPrev = mean.mmul(p.get("W_h0")).add(p.get("b_h0"));                   // [B,H]
        SDVariable cPrev = mean.mmul(p.get("W_c0")).add(p.get("b_c0"));                   // [B,H]
        SDVariable tokenLoss = null, coverage = null;
        SDVariable tokens = sd.placeHolder("tokens", DataType.FLOAT);                    // scalar: number of target tokens
        for (int t = 0; t < steps; t++) {
            SDVariable in = sd.placeHolder("in" + t, DataType.FLOAT, -1, c.vocabSize());  // [B,V] one-hot input word
            SDVariable tgt = sd.placeHolder("tgt" + t, DataType.FLOAT, -1, c.vocabSize()); // [B,V] one-hot target (zeros on padding)
            SDVariable mask = sd.placeHolder("mask" + t, DataType.FLOAT, -1, 1);          // [B,1]
            SDVariable drop = sd.placeHolder("drop" + t, DataType.FLOAT, -1, h);          // [B,H] inverted-dropout mask
            SDVariable x = in.mmul(p.get("E"));                                           // [B,E]
            // attention
            SDVariable hAtt = hPrev.mmul(p.get("W_ha")).reshape(-1, 1, a);                // [B,1,A]
            SDVariable act = sd.math().tanh(gridProj.add(hAtt));                          // [B,L,A]
            SDVariable e = act.reshape(-1, a).mmul(p.get("w_att")).reshape(-1, l);        // [B,L]
            SDVariable alpha = sd.nn().softmax(e, 1);                                     // [B,L]
            SDVariable context = alpha.reshape(-1, l, 1).mul(grid).sum(1);                // [B,C]  sum_i p_i a_i
            SDVariable gate = sd.nn().sigmoid(hPrev.mmul(p.get("W_beta")).add(p.get("b_beta"))); // [B,C]
            SDVariable z = gate.mul(context);                                             // [B,C]
            // LSTM cell on [x; z]
            SDVariable gates = x.mmul(p.get("W_x")).add(z.mmul(p.get("W_z"))).add(hPrev.mmul(p.get("W_h"))).add(p.get("b")); // [B,4H]
            SDVariable ig = sd.nn().sigmoid(gates.get(SDIndex.all(), SDIndex.interval(0, h)));
            SDVariable fg = sd.nn().sigmoid(gates.get(SDIndex.all(), SDIndex.interval(h, 2 * h)));
            SDVariable og = sd.nn().sigmoid(gates.get(SDIndex.all(), SDIndex.interval(2 * h, 3 * h)));
            SDVariable gg = sd.math().tanh(gates.get(SDIndex.all(), SDIndex.interval(3 * h, 4 * h)));
            SDVariable cNew = fg.mul(cPrev).add(ig.mul(gg));                              // [B,H]
            SDVariable hNew = og.mul(sd.math().tanh(cNew));                               // [B,H]
            // padding steps keep the previous state, so the recurrence never runs on padding
            cPrev = cNew.mul(mask).add(cPrev.mul(mask.rsub(1.0)));
            hPrev = hNew.mul(mask).add(hPrev.mul(mask.rsub(1.0)));
            SDVariable logits = sd.identity("logits" + t, hNew.mul(drop).mmul(p.get("W_out")).add(p.get("b_out"))); // [B,V]
            SDVariable nll = sd.nn().logSoftmax(logits).mul(tgt).sum().neg();   // scalar (last axis: the dim overload breaks backprop in M2.1); targets are 0 on padding
            tokenLoss = tokenLoss == null ? nll : tokenLoss.add(nll);
            SDVariable maskedAlpha = alpha.mul(mask);                                     // [B,L]
            coverage = coverage == null ? maskedAlpha : coverage.add(maskedAlpha);
        }
        SDVariable reg = sd.math().square(coverage.rsub(1.0)).sum().mul(lambda).div(sd.sizeAt(grid, 0).castTo(DataType.FLOAT));
        SDVariable ce = tokenLoss.div(tokens);
        sd.identity("ce", ce);
        sd.identity("loss", ce.add(reg));
        sd.setLossVariables("loss");
        return sd;
    }

    private Map<String, INDArray> placeholders(CaptionBatch b, boolean train) {
        int n = b.size(), t = (int) b.inputs().size(2), v = c.vocabSize(), h = c.hidden();
        Map<String, INDArray> ph = new HashMap<>();
        ph.put("grid", b.grids());
        ph.put("tokens", Nd4j.scalar((float) b.tokens()));
        float keep = (float) (1 - c.dropout());
        for (int s = 0; s < t; s++) {
            INDArray in = Nd4j.zeros(DataType.FLOAT, n, v), tgt = Nd4j.zeros(DataType.FLOAT, n, v), mask = Nd4j.zeros(DataType.FLOAT, n, 1);
            for (int i = 0; i < n; i++) {
                in.putScalar(i, b.inputs().getInt(i, 0, s), 1f);
                if (b.mask().getFloat(i, s) != 0) {
                    tgt.putScalar(i, b.targets().getInt(i, 0, s), 1f);
                    mask.putScalar(i, 0, 1f);
                }
            }
            INDArray drop = Nd4j.ones(DataType.FLOAT, n, h);
            if (train && c.dropout() > 0) {
                float[] d = new float[n * h];
                for (int k = 0; k < d.length; k++) d[k] = dropoutRng.nextFloat() < keep ? 1f / keep : 0f;
                drop = Nd4j.create(d, new long[] {n, h}, 'c');
            }
            ph.put("in" + s, in);
            ph.put("tgt" + s, tgt);
            ph.put("mask" + s, mask);
            ph.put("drop" + s, drop);
        }
        return ph;
    }

    private SameDiff bound(int t) {
        SameDiff sd = graph(t);
        for (String n : PARAMS) sd.getVariable(n).setArray(params.get(n)); // every graph reads the one set of parameters
        return sd;
    }

    @Override
    public synchronized double fit(CaptionBatch batch) {
        int t = (int) batch.inputs().size(2);
        SameDiff sd = bound(t);
        Map<String, INDArray> ph = placeholders(batch, true);
        // One forward + backward pass gives both the loss and the gradients.
        var outAndGrad = quietly(() -> sd.calculateGradientsAndOutputs(ph, List.of("ce"), List.of(PARAMS)));
        Map<String, INDArray> grads = outAndGrad.getGradients();
        double ce = outAndGrad.getOutputs().get("ce").getDouble(0);
        // global gradient-norm clipping, as torch.nn.utils.clip_grad_norm_
        double sq = 0;
        for (INDArray g : grads.values()) sq += g.norm2Number().doubleValue() * g.norm2Number().doubleValue();
        double norm = Math.sqrt(sq);
        double scale = norm > CLIP_NORM ? CLIP_NORM / norm : 1.0;
        for (String n : PARAMS) {
            INDArray g = grads.get(n).castTo(DataType.FLOAT).dup('c');
            if (scale != 1.0) g.muli(scale);
            AdamUpdater u = adam.get(n);
            u.getConfig().setLearningRate(learningRate);
            u.applyUpdater(g, iteration, 0);                  // g becomes the Adam step
            params.get(n).subi(g.reshape(params.get(n).shape()));
        }
        iteration++;
        return ce;
    }

    @Override
    public synchronized double loss(CaptionBatch batch) {
        SameDiff sd = bound((int) batch.inputs().size(2));
        return sd.output(placeholders(batch, false), "ce").get("ce").getDouble(0);
    }

    @Override
    public synchronized INDArray sequenceProbabilities(CaptionBatch batch) {
        // Step-by-step with teacher forcing, through the training graph: softmax of each step's logits.
        int t = (int) batch.inputs().size(2);
        SameDiff sd = bound(t);
        Map<String, INDArray> ph = placeholders(batch, false);
        INDArray probs = Nd4j.create(DataType.FLOAT, batch.size(), c.vocabSize(), t);
        // Each step's logits, read out of the training graph.
        for (int s = 0; s < t; s++) {
            String name = "logits" + s;
            INDArray logits = sd.output(ph, name).get(name);
            probs.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(s)).assign(Transforms.softmax(logits));
        }
        return probs;
    }

    // ---------------------------------------------------------------- step-by-step decoding (ND4J)

    private final class State implements DecodingState {
        final INDArray grid;      // [N,L,C]
        final INDArray gridProj;  // [N,L,A]
        INDArray h, cell;         // [N,H]
        INDArray alpha;           // [N,L] last step's attention

        State(INDArray grid, INDArray gridProj, INDArray h, INDArray cell, INDArray alpha) {
            this.grid = grid;
            this.gridProj = gridProj;
            this.h = h;
            this.cell = cell;
            this.alpha = alpha;
        }

        @Override
        public int size() {
            return (int) grid.size(0);
        }

        @Override
        public DecodingState select(int[] rows) {
            return new State(rows3(grid, rows), rows3(gridProj, rows), h.getRows(rows), cell.getRows(rows),
                    alpha == null ? null : alpha.getRows(rows));
        }

        @Override
        public INDArray lastAttention() {
            return alpha;
        }
    }

    private static INDArray rows3(INDArray x, int[] rows) {
        long[] s = x.shape();
        return x.reshape(s[0], s[1] * s[2]).getRows(rows).reshape(rows.length, s[1], s[2]);
    }

    @Override
    public DecodingState start(INDArray vectors, INDArray grids) {
        if (grids == null) throw new IllegalArgumentException("the attention decoder needs feature grids");
        long n = grids.size(0);
        int l = c.gridCells(), ch = c.gridChannels(), a = c.attentionSize();
        INDArray g = grids.castTo(DataType.FLOAT);
        INDArray proj = g.reshape(n * l, ch).mmul(params.get("W_a")).reshape(n, l, a);       // [N,L,A]
        INDArray mean = g.mean(1);                                                           // [N,C]
        INDArray h0 = mean.mmul(params.get("W_h0")).addiRowVector(params.get("b_h0"));      // [N,H]
        INDArray c0 = mean.mmul(params.get("W_c0")).addiRowVector(params.get("b_c0"));      // [N,H]
        return new State(g, proj, h0, c0, null);
    }

    @Override
    public synchronized INDArray step(DecodingState state, int[] tokens) {
        State s = (State) state;
        int n = s.size(), l = c.gridCells(), a = c.attentionSize(), h = c.hidden();
        INDArray x = params.get("E").getRows(tokens);                                        // [N,E] (lookup = one-hot x E)
        INDArray hAtt = s.h.mmul(params.get("W_ha"));                                        // [N,A]
        INDArray act = Transforms.tanh(Broadcast.add(s.gridProj, hAtt, s.gridProj.ulike(), 0, 2), false); // [N,L,A]
        INDArray e = act.reshape((long) n * l, a).mmul(params.get("w_att")).reshape(n, l);   // [N,L]
        INDArray alpha = Transforms.softmax(e);                                              // [N,L]
        INDArray context = Broadcast.mul(s.grid, alpha, s.grid.ulike(), 0, 1).sum(1);         // [N,C]
        INDArray gate = Transforms.sigmoid(s.h.mmul(params.get("W_beta")).addiRowVector(params.get("b_beta")), false);
        INDArray z = gate.muli(context);                                                     // [N,C]
        INDArray gates = x.mmul(params.get("W_x")).addi(z.mmul(params.get("W_z"))).addi(s.h.mmul(params.get("W_h")))
                .addiRowVector(params.get("b"));                                             // [N,4H]
        INDArray ig = Transforms.sigmoid(gates.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, h)), true);
        INDArray fg = Transforms.sigmoid(gates.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(h, 2 * h)), true);
        INDArray og = Transforms.sigmoid(gates.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(2 * h, 3 * h)), true);
        INDArray gg = Transforms.tanh(gates.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(3 * h, 4 * h)), true);
        s.cell = fg.mul(s.cell).addi(ig.mul(gg));                                            // [N,H]
        s.h = og.mul(Transforms.tanh(s.cell, true));                                         // [N,H]
        s.alpha = alpha;
        INDArray logits = s.h.mmul(params.get("W_out")).addiRowVector(params.get("b_out")); // [N,V]
        return Transforms.softmax(logits);
    }

    // ---------------------------------------------------------------- persistence

    @Override
    public void setLearningRate(double lr) {
        this.learningRate = lr;
    }

    @Override
    public double learningRate() {
        return learningRate;
    }

    @Override
    public long parameterCount() {
        return params.values().stream().mapToLong(INDArray::length).sum();
    }

    @Override
    public synchronized void save(Path file, boolean withUpdater) throws IOException {
        AtomicFiles.write(file, out -> {
            ZipOutputStream zip = new ZipOutputStream(out);
            DataOutputStream data = new DataOutputStream(zip);
            for (String n : PARAMS) {
                zip.putNextEntry(new ZipEntry("params/" + n));
                Nd4j.write(params.get(n), data);
                data.flush();
                zip.closeEntry();
                if (withUpdater) {
                    zip.putNextEntry(new ZipEntry("adam/" + n));
                    Nd4j.write(adamState.get(n), data);
                    data.flush();
                    zip.closeEntry();
                }
            }
            zip.putNextEntry(new ZipEntry("iteration"));
            data.writeInt(iteration);
            data.flush();
            zip.closeEntry();
            zip.finish();
        });
    }

    public static AttentionDecoder load(DecoderConfig c, Path file, boolean withUpdater, double learningRate, double lambda) throws IOException {
        AttentionDecoder d = new AttentionDecoder(c, learningRate, lambda, 42);
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(file))) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                DataInputStream in = new DataInputStream(zip);
                if (e.getName().startsWith("params/")) d.params.put(e.getName().substring(7), Nd4j.read(in));
                else if (e.getName().startsWith("adam/") && withUpdater) d.adamState.put(e.getName().substring(5), Nd4j.read(in));
                else if (e.getName().equals("iteration")) d.iteration = in.readInt();
            }
        } catch (RuntimeException e) {
            throw new IOException(file + " is not an attention decoder: " + e.getMessage(), e);
        }
        for (String n : PARAMS) if (!d.params.containsKey(n)) throw new IOException(file + " lacks parameter " + n);
        if (d.params.get("E").size(0) != c.vocabSize()) {
            throw new IOException(file + ": the network has " + d.params.get("E").size(0) + " words but the vocabulary has " + c.vocabSize());
        }
        Map<String, INDArray> keep = new LinkedHashMap<>();
        for (String n : PARAMS) keep.put(n, d.params.get(n));
        d.params.clear();
        d.params.putAll(keep);
        d.initAdam();
        return d;
    }

    /** SameDiff M2.1 prints its gradient function to System.out; keep stdout for results. */
    private static <T> T quietly(java.util.function.Supplier<T> f) {
        PrintStream old = System.out;
        System.setOut(new PrintStream(java.io.OutputStream.nullOutputStream()));
        try {
            return f.get();
        } finally {
            System.setOut(old);
        }
    }
}
