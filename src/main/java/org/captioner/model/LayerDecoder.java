package org.captioner.model;

import org.captioner.layers.Dropout;
import org.captioner.layers.Parameters;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What every decoder built from {@link org.captioner.layers} shares: its parameters and Adam state, dropout, the
 * batch in time-major rows (row t*B + i = caption i at step t), and the training step around a decoder's teacher-forced
 * {@link #pass}. Each training pass runs in an ND4J workspace: its temporaries (hundreds of arrays a batch) reuse one
 * block of native memory instead of waiting for the garbage collector to free them, so a training run's resident
 * memory stays flat instead of climbing to JavaCPP's limit.
 */
abstract class LayerDecoder implements CaptionDecoder {
    private static final WorkspaceConfiguration PASS_MEMORY = WorkspaceConfiguration.builder()
            .initialSize(0).policyAllocation(AllocationPolicy.OVERALLOCATE).overallocationLimit(0.3)
            .policyLearning(LearningPolicy.FIRST_LOOP).policySpill(SpillPolicy.REALLOCATE).build();

    protected final DecoderConfig c;
    protected final Parameters params;
    protected final Dropout dropout;

    LayerDecoder(DecoderConfig c, Parameters params, long seed) {
        this.c = c;
        this.params = params;
        this.dropout = new Dropout(c.dropout(), seed);
    }

    /**
     * A batch in time-major rows: input and target ids, the mask (0 on padding) and each row's loss weight: 1/tokens
     * (the mean per target token; {@code tokens} is the batch's target-token count) or, with per-step weights (caption-major, as {@link #fitWeighted} takes them), those.
     */
    record Rows(int n, int steps, int[] inputs, int[] targets, float[] mask, double[] weights, long tokens) {
        static Rows of(CaptionBatch b, float[] weights) {
            int n = b.size(), steps = (int) b.inputs().size(2), rows = n * steps;
            float[] in = b.inputs().dup('c').data().asFloat(), tgt = b.targets().dup('c').data().asFloat(), m = b.mask().dup('c').data().asFloat();
            int[] ids = new int[rows], targets = new int[rows];
            float[] mask = new float[rows];
            double[] w = new double[rows];
            for (int t = 0; t < steps; t++) {
                for (int i = 0; i < n; i++) {
                    int r = t * n + i, k = i * steps + t;
                    ids[r] = (int) in[k];
                    targets[r] = (int) tgt[k];
                    mask[r] = m[k];
                    if (mask[r] != 0) w[r] = weights == null ? 1.0 / b.tokens() : weights[k];
                }
            }
            return new Rows(n, steps, ids, targets, mask, w, b.tokens());
        }

        /** Step t of every caption: rows t*B .. t*B+B-1 of a time-major [T*B, k] matrix (a view). */
        INDArray step(INDArray x, int t) {
            return x.get(NDArrayIndex.interval((long) t * n, (long) (t + 1) * n), NDArrayIndex.all());
        }
    }

    /**
     * A pass's cross-entropy (weighted as {@link Rows}), its other loss terms (attention's regulariser, hard
     * attention's REINFORCE and entropy terms), the gradients of their sum when asked, the probabilities [T*B, V], and
     * the mean over captions of sum_t log p(w_t).
     */
    record Pass(double crossEntropy, double penalty, Map<String, INDArray> gradients, INDArray probabilities, double logLikelihood) {
    }

    /** One teacher-forced pass: {@code train} applies dropout, {@code grads} runs the backward pass. */
    abstract Pass pass(CaptionBatch batch, Rows rows, boolean train, boolean grads);

    final Pass pass(CaptionBatch batch, boolean train, boolean grads, float[] weights) {
        return pass(batch, Rows.of(batch, weights), train, grads);
    }

    /** Runs {@code body} with its ND4J arrays in this thread's pass workspace; nothing it allocates may escape. */
    static <T> T inWorkspace(Supplier<T> body) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(PASS_MEMORY, "captioner-decoder-pass")) {
            return body.get();
        }
    }

    /** One Adam step with global gradient-norm clipping on a pass's gradients; returns its cross-entropy. */
    final double update(Pass p) {
        params.update(p.gradients());
        return p.crossEntropy();
    }

    @Override
    public synchronized double fit(CaptionBatch batch) {
        return inWorkspace(() -> update(pass(batch, true, true, null)));
    }

    /** Without dropout: the policy being improved is the one that sampled the captions. */
    @Override
    public synchronized double fitWeighted(CaptionBatch batch, float[] weights) {
        if (weights.length != batch.size() * batch.inputs().size(2)) throw new IllegalArgumentException("one weight per caption step expected");
        return inWorkspace(() -> update(pass(batch, false, true, weights)));
    }

    @Override
    public synchronized double loss(CaptionBatch batch) {
        return inWorkspace(() -> pass(batch, false, false, null).crossEntropy());
    }

    @Override
    public synchronized INDArray sequenceProbabilities(CaptionBatch batch) {
        return inWorkspace(() -> {
            int n = batch.size(), steps = (int) batch.inputs().size(2);
            INDArray p = pass(batch, false, false, null).probabilities();                  // [T*B,V]
            return p.reshape(steps, n, c.vocabSize()).permute(1, 2, 0).dup('c').detach(); // [B,V,T]
        });
    }

    @Override
    public DecoderConfig config() {
        return c;
    }

    /** Gradient checks: the parameter arrays themselves. */
    Map<String, INDArray> parameters() {
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

    /** Checkpoints ({@code withUpdater}) keep float32 parameters and the Adam state; bundles float16 ({@link Parameters#save}). */
    @Override
    public synchronized void save(Path file, boolean withUpdater) throws IOException {
        params.save(file, withUpdater);
    }

    /** A decoder file's parameters, with a clear error when its vocabulary is not the model's. */
    static Parameters load(Path file, String[] names, boolean withUpdater, double learningRate, String what, int vocabSize) throws IOException {
        Parameters ps = Parameters.load(file, names, withUpdater, learningRate, what);
        if (ps.get("E").size(0) != vocabSize) {
            throw new IOException(file + ": the network has " + ps.get("E").size(0) + " words but the vocabulary has " + vocabSize);
        }
        return ps;
    }
}
