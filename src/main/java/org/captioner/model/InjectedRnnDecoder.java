package org.captioner.model;

import org.captioner.util.AtomicFiles;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.distribution.UniformDistribution;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.rnn.DuplicateToTimeSeriesVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code rnn} and {@code lstm} decoders: a recurrent language model that receives the image vector at
 * every step. As a DL4J ComputationGraph (B = batch, T = steps, V = vocabulary):
 * <pre>
 *   words  [B,1,T] -> embed (EmbeddingSequence)            -> x_t      [B,256,T]
 *   image  [B,512] -> project (Dense, identity)            -> v        [B,256]
 *                  -> repeat over T (DuplicateToTimeSeries) -> v_t      [B,256,T]
 *   [x_t; v_t] (Merge)                                     -> in_t     [B,512,T]
 *   rnn:  h_t = tanh(W in_t + Whh h_{t-1} + b)  (SimpleRnn; W = [Wxh Wih], so W in_t = Wxh x_t + Wih v)
 *   lstm: LSTM over in_t (v reaches every gate through its own columns of the input weights)
 *                                                          -> h_t      [B,512,T]
 *   --layers N: N-1 more such layers ("rnn2", ...), each over dropout(h^{l-1}_t)   [B,512,T]
 *   dropout 0.5 -> Why (RnnOutputLayer, softmax)           -> p(w_t+1) [B,V,T]
 * </pre>
 * Step-by-step decoding uses the same graph through {@code rnnTimeStep}, so both paths share every weight.
 */
public final class InjectedRnnDecoder implements CaptionDecoder {
    static final String WORDS = "words", IMAGE = "image", EMBED = "embed", PROJECT = "project", REPEAT = "repeat",
            MERGE = "merge", RNN = "rnn", OUT = "out";

    private static final double CLIP_NORM = 5.0;

    private final DecoderConfig config;
    private final ComputationGraph graph;

    private InjectedRnnDecoder(DecoderConfig config, ComputationGraph graph) {
        this.config = config;
        this.graph = graph;
    }

    public static InjectedRnnDecoder create(DecoderConfig c, double learningRate, long seed) {
        return create(c, learningRate, seed, DataType.FLOAT);
    }

    /** With parameters in {@code dtype} (DOUBLE for gradient checks). */
    public static InjectedRnnDecoder create(DecoderConfig c, double learningRate, long seed, DataType dtype) {
        if (c.type() != DecoderType.RNN && c.type() != DecoderType.LSTM) {
            throw new IllegalArgumentException("InjectedRnnDecoder is the rnn and lstm decoders, not " + c.type().id());
        }
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(learningRate))
                .weightInit(WeightInit.XAVIER)
                .dataType(dtype)
                // Keep the LSTM's forward pass for backprop; without a cache DL4J runs it twice per step (~20% of training).
                .cacheMode(CacheMode.DEVICE)
                // No DL4J gradient normalisation: fit() clips the global norm itself (DL4J only clips per layer).
                .graphBuilder()
                // No setInputTypes: its nIn inference would overwrite the embedding's vocabulary size with 1.
                .addInputs(WORDS, IMAGE);
        // Initialised as PyTorch's defaults (N(0,1) embeddings, U(+-1/sqrt(fan-in)) elsewhere): with DL4J's Xavier the
        // embeddings start ~150x weaker than the projected image vector and the language model learns far slower.
        g.addLayer(EMBED, new EmbeddingSequenceLayer.Builder().nIn(c.vocabSize()).nOut(c.embedSize())
                .weightInit(new NormalDistribution(0, 1)).build(), WORDS);
        g.addLayer(PROJECT, new DenseLayer.Builder().nIn(c.imageDim()).nOut(c.imageProjection())
                .weightInit(fanIn(c.imageDim())).activation(Activation.IDENTITY).build(), IMAGE);
        g.addVertex(REPEAT, new DuplicateToTimeSeriesVertex(WORDS), PROJECT);
        g.addVertex(MERGE, new MergeVertex(), EMBED, REPEAT);
        // --layers N: stacked recurrent layers; only the first sees [x_t; v] (the upper ones get v through h^1, as a
        // stacked torch.nn.LSTM fed [x; v]); dropout on each upper layer's input, as torch's dropout between layers
        String below = MERGE;
        for (int l = 1; l <= c.layers(); l++) {
            int in = l == 1 ? c.embedSize() + c.imageProjection() : c.hidden();
            org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer.Builder<?> rb = c.type() == DecoderType.RNN
                    ? new SimpleRnn.Builder().activation(Activation.TANH) : new LSTM.Builder().activation(Activation.TANH);
            rb.nIn(in).nOut(c.hidden()).weightInit(fanIn(c.hidden())).dataFormat(RNNFormat.NCW);
            if (l > 1 && c.dropout() > 0) rb.dropOut(1.0 - c.dropout());
            g.addLayer(recurrentLayer(l), rb.build(), below);
            below = recurrentLayer(l);
        }
        // Dropout on the output layer's input (DL4J's DropoutLayer mis-applies sequence masks). DL4J takes the keep probability.
        RnnOutputLayer.Builder out = new RnnOutputLayer.Builder(new LossSparseMCXENT()).nIn(c.hidden()).nOut(c.vocabSize())
                .weightInit(fanIn(c.hidden()))
                .activation(Activation.SOFTMAX).dataFormat(RNNFormat.NCW); // unset without input types: M2.1 then checks the wrong axis
        if (c.dropout() > 0) out.dropOut(1.0 - c.dropout());
        g.addLayer(OUT, out.build(), below);
        g.setOutputs(OUT);
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        return new InjectedRnnDecoder(c, net);
    }

    /** The graph's name of recurrent layer l (1-based): "rnn" for the first, as in bundles from before --layers. */
    static String recurrentLayer(int l) {
        return l == 1 ? RNN : RNN + l;
    }

    /** U(-1/sqrt(n), 1/sqrt(n)): PyTorch's default for Linear (n = fan-in) and LSTM/RNN (n = hidden size) weights. */
    private static UniformDistribution fanIn(int n) {
        return new UniformDistribution(-1 / Math.sqrt(n), 1 / Math.sqrt(n));
    }

    public static InjectedRnnDecoder load(DecoderConfig c, Path file, boolean withUpdater) throws IOException {
        ComputationGraph net = ModelSerializer.restoreComputationGraph(file.toFile(), withUpdater);
        int layers = 0;
        while (net.getVertex(recurrentLayer(layers + 1)) != null) layers++;
        if (layers != c.layers()) {
            throw new IOException(file + ": the network has " + layers + " recurrent layer(s) but the model's config.json says " + c.layers());
        }
        long outSize = net.getLayer(OUT).getParam("W").size(1);
        if (outSize != c.vocabSize()) {
            throw new IOException(file + ": the network predicts " + outSize + " words but the vocabulary has " + c.vocabSize());
        }
        if (!withUpdater) {
            // fresh Adam moments need a fresh step count (bias correction), as in AttentionDecoder.load
            net.getConfiguration().setIterationCount(0);
            net.getConfiguration().setEpochCount(0);
        }
        return new InjectedRnnDecoder(c, net);
    }

    @Override
    public DecoderConfig config() {
        return config;
    }

    @Override
    public void close() {
        graph.close();
    }

    ComputationGraph graph() {
        return graph;
    }

    private MultiDataSet toDataSet(CaptionBatch b) {
        return new MultiDataSet(new INDArray[] {b.inputs(), b.vectors()}, new INDArray[] {b.targets()},
                new INDArray[] {b.mask(), null}, new INDArray[] {b.mask()});
    }

    /** A teacher-forced forward and backward pass of the graph on a batch (sum of the output layer's loss). */
    private void computeGradientAndScore(CaptionBatch batch) {
        graph.rnnClearPreviousState();
        graph.setInputs(batch.inputs(), batch.vectors());
        graph.setLabels(batch.targets());
        graph.setLayerMaskArrays(new INDArray[] {batch.mask(), null}, new INDArray[] {batch.mask()});
        graph.computeGradientAndScore();
        graph.clearLayerMaskArrays();
    }

    /**
     * The gradient of the mean cross-entropy per target token (as PyTorch's CrossEntropyLoss), flattened in
     * the graph's parameter order; a view DL4J's updater works in. DL4J's own loss gradient is the sum over
     * all target tokens (its updater divides by the batch size later), so it is divided by the token count here.
     */
    synchronized Gradient tokenMeanGradient(CaptionBatch batch) {
        computeGradientAndScore(batch);
        Gradient g = graph.gradient();
        g.gradient().divi(batch.tokens());
        return g;
    }

    /**
     * One Adam step on the per-token mean loss with global gradient-norm clipping, as
     * {@code torch.nn.utils.clip_grad_norm_(params, 5)}: the whole gradient is rescaled when its L2 norm is
     * above 5, so the direction is kept (DL4J's built-in clipping works per layer and on summed losses).
     */
    @Override
    public synchronized double fit(CaptionBatch batch) {
        Gradient g = tokenMeanGradient(batch);
        double perToken = graph.score() * batch.size() / batch.tokens();  // DL4J's score: summed loss per sequence
        step(g);
        return perToken;
    }

    /**
     * DL4J's loss gradient is a sum over target tokens; for this step the output layer's loss weighs each token
     * ({@link WeightedTokenLoss}) and its dropout is off, so the policy being improved is the one that sampled the
     * captions.
     */
    @Override
    public synchronized double fitWeighted(CaptionBatch batch, float[] weights) {
        Gradient g = weightedGradient(batch, weights);
        double loss = graph.score() * batch.size();                          // DL4J's score: weighted sum per sequence
        step(g);
        return loss;
    }

    /** The gradient of {@code sum weights * -log p(target)} (see {@link #fitWeighted}), a view of the graph's. */
    synchronized Gradient weightedGradient(CaptionBatch batch, float[] weights) {
        int n = batch.size(), steps = (int) batch.inputs().size(2);
        if (weights.length != n * steps) throw new IllegalArgumentException("one weight per caption step expected");
        float[] rows = new float[n * steps];                                    // time-major, as DL4J's 2-d view
        for (int i = 0; i < n; i++) for (int t = 0; t < steps; t++) rows[t * n + i] = weights[i * steps + t];
        var outConf = (org.deeplearning4j.nn.conf.layers.BaseOutputLayer) graph.getLayer(OUT).conf().getLayer();
        var loss = outConf.getLossFn();
        Map<org.deeplearning4j.nn.conf.layers.Layer, org.deeplearning4j.nn.conf.dropout.IDropout> dropouts = new HashMap<>();
        for (var layer : graph.getLayers()) {                                  // every dropout off: output and between layers
            var conf = layer.conf().getLayer();
            if (conf.getIDropout() != null) dropouts.put(conf, conf.getIDropout());
            conf.setIDropout(null);
        }
        outConf.setLossFn(new WeightedTokenLoss(Nd4j.create(rows, new long[] {(long) n * steps, 1}, 'c')));
        try {
            computeGradientAndScore(batch);
        } finally {
            outConf.setLossFn(loss);
            dropouts.forEach(org.deeplearning4j.nn.conf.layers.Layer::setIDropout);
        }
        return graph.gradient();
    }

    /** An Adam step on a gradient (a view of the graph's), after global-norm clipping. */
    private void step(Gradient g) {
        INDArray flat = g.gradient();
        double norm = flat.norm2Number().doubleValue();
        if (norm > CLIP_NORM) flat.muli(CLIP_NORM / norm);
        int iteration = graph.getIterationCount(), epoch = graph.getEpochCount();
        // batch size 1: the gradient is already what is wanted, the updater must not divide it
        graph.getUpdater().update(g, iteration, epoch, 1, LayerWorkspaceMgr.noWorkspaces());
        graph.params().subi(flat);                                          // flat now holds the Adam step
        graph.getConfiguration().setIterationCount(iteration + 1);
    }

    @Override
    public synchronized double loss(CaptionBatch batch) {
        graph.rnnClearPreviousState();
        return graph.score(toDataSet(batch), false) * batch.size() / batch.tokens();
    }

    @Override
    public synchronized INDArray sequenceProbabilities(CaptionBatch batch) {
        graph.rnnClearPreviousState();
        return graph.output(false, new INDArray[] {batch.inputs(), batch.vectors()}, new INDArray[] {batch.mask(), null})[0];
    }

    /** The recurrent layers' state for N sequences; rows are selected for beam search. */
    private final class State implements DecodingState {
        final INDArray vectors;                     // [N, D]
        List<Map<String, INDArray>> rnnState;       // per layer, each entry [N, hidden]; null before the first step

        State(INDArray vectors, List<Map<String, INDArray>> rnnState) {
            this.vectors = vectors;
            this.rnnState = rnnState;
        }

        @Override
        public int size() {
            return (int) vectors.size(0);
        }

        @Override
        public DecodingState select(int[] rows) {
            List<Map<String, INDArray>> s = null;
            if (rnnState != null) {
                s = new ArrayList<>();
                for (Map<String, INDArray> layer : rnnState) {
                    Map<String, INDArray> m = new HashMap<>();
                    for (Map.Entry<String, INDArray> e : layer.entrySet()) m.put(e.getKey(), e.getValue().getRows(rows));
                    s.add(m);
                }
            }
            return new State(vectors.getRows(rows), s);
        }
    }

    @Override
    public DecodingState start(INDArray vectors, INDArray grids) {
        return new State(vectors, null);
    }

    @Override
    public synchronized INDArray step(DecodingState state, int[] tokens) {
        State s = (State) state;
        int n = s.size();
        INDArray in = Nd4j.create(new long[] {n, 1, 1});                     // [N, 1, 1]: one step of token ids
        for (int i = 0; i < n; i++) in.putScalar(i, 0, 0, tokens[i]);
        graph.rnnClearPreviousState();
        if (s.rnnState != null) {
            for (int l = 1; l <= config.layers(); l++) graph.rnnSetPreviousState(recurrentLayer(l), s.rnnState.get(l - 1));
        }
        INDArray p = graph.rnnTimeStep(in, s.vectors)[0];                      // [N, V, 1]
        s.rnnState = new ArrayList<>();
        for (int l = 1; l <= config.layers(); l++) s.rnnState.add(copy(graph.rnnGetPreviousState(recurrentLayer(l))));
        return p.reshape(n, config.vocabSize());                               // [N, V]
    }

    private static Map<String, INDArray> copy(Map<String, INDArray> m) {
        Map<String, INDArray> out = new HashMap<>();
        m.forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }

    @Override
    public void setLearningRate(double lr) {
        graph.setLearningRate(lr);
    }

    @Override
    public double learningRate() {
        return graph.getLayer(OUT).conf().getLayer().getUpdaterByParam("W").getLearningRate(0, 0);
    }

    @Override
    public synchronized void save(Path file, boolean withUpdater) throws IOException {
        AtomicFiles.write(file, out -> ModelSerializer.writeModel(graph, out, withUpdater));
    }

    @Override
    public long parameterCount() {
        return graph.numParams();
    }
}
