package org.captioner.model;

import org.captioner.layers.Dropout;
import org.captioner.layers.Embedding;
import org.captioner.layers.GruCell;
import org.captioner.layers.Linear;
import org.captioner.layers.LstmCell;
import org.captioner.layers.Parameters;
import org.captioner.layers.RecurrentCell;
import org.captioner.layers.RnnCell;
import org.captioner.layers.WeightedCrossEntropy;
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
 * The {@code rnn}, {@code lstm} and {@code gru} decoders: a (stacked) recurrent language model that receives the image
 * vector at every step. Shapes: B batch, T steps, D image vector, P its projection, E embedding, H hidden, G the cell's
 * input width (H, 4H, 3H), V vocabulary; layer l = 1..N.
 * <pre>
 *   v'      = v W_p + b_p                                  [B,P]   image projection (identity), once
 *   layer 1: in_t = x_t W_x + v' W_v                       [B,G]   h = tanh(Wxh x + Whh h + Wih v + b) for rnn
 *   layer l>1: in_t = dropout(h^{l-1}_t) W_i^l             [B,G]
 *   h^l_t   = cell(in_t, h^l_{t-1})                        [B,H]   RnnCell, LstmCell or GruCell (their b, W_h); h_0 = 0
 *   y_t     = dropout(h^N_t) W_out + b_out                 [B,V]
 * </pre>
 * Only the first layer sees the image: the upper layers get it through h^1, as in a stacked torch.nn.LSTM/GRU whose
 * input is [x; v'], and stacking then adds depth, not a second copy of the image term (docs/training.md, --layers).
 * Input-side products and the output layer run for all steps at once; in the loop only the cells.
 */
public final class RecurrentDecoder extends LayerDecoder {
    private final Embedding embed;
    private final Linear project, image, out;
    private final Linear[] input;          // per layer: W_x (layer 1) or W_i^l, no bias (the cell adds it)
    private final RecurrentCell[] cells;

    private RecurrentDecoder(DecoderConfig c, Parameters params, long seed) {
        super(c, params, seed);
        embed = new Embedding(params, "E");
        project = new Linear(params, "W_p", "b_p");
        image = new Linear(params, "W_v", null);
        out = new Linear(params, "W_out", "b_out");
        input = new Linear[c.layers()];
        cells = new RecurrentCell[c.layers()];
        for (int l = 1; l <= c.layers(); l++) {
            input[l - 1] = new Linear(params, name("W_x", "W_i", l), null);
            String wh = name("W_h", "W_h", l), b = name("b", "b", l);
            cells[l - 1] = switch (c.type()) {
                case RNN -> new RnnCell(params, wh, b, c.hidden());
                case LSTM -> new LstmCell(params, wh, b, c.hidden());
                case GRU -> new GruCell(params, wh, b, name("b_hn", "b_hn", l), c.hidden());
                default -> throw new IllegalArgumentException("RecurrentDecoder is rnn, lstm and gru, not " + c.type().id());
            };
        }
    }

    /** Layer l's name of a parameter: {@code first} for layer 1 (the names of one-layer models), {@code upper + l} above. */
    private static String name(String first, String upper, int l) {
        return l == 1 ? first : upper + l;
    }

    /** Parameter names: the image projection, then per layer its input weights, bias, recurrent weights (gru: b_hn). */
    static String[] names(DecoderType type, int layers) {
        List<String> n = new ArrayList<>(List.of("E", "W_p", "b_p", "W_v"));
        for (int l = 1; l <= layers; l++) {
            n.addAll(List.of(name("W_x", "W_i", l), name("b", "b", l), name("W_h", "W_h", l)));
            if (type == DecoderType.GRU) n.add(name("b_hn", "b_hn", l));
        }
        n.addAll(List.of("W_out", "b_out"));
        return n.toArray(String[]::new);
    }

    /** Cell input width G for the decoder type. */
    private static long gates(DecoderConfig c) {
        return switch (c.type()) {
            case RNN -> c.hidden();
            case GRU -> 3L * c.hidden();
            default -> 4L * c.hidden();
        };
    }

    public static RecurrentDecoder create(DecoderConfig c, double learningRate, long seed) {
        return create(c, learningRate, seed, DataType.FLOAT);
    }

    /** With parameters in {@code dtype} (DOUBLE for gradient checks). */
    public static RecurrentDecoder create(DecoderConfig c, double learningRate, long seed, DataType dtype) {
        int e = c.embedSize(), p = c.imageProjection(), d = c.imageDim(), h = c.hidden();
        long g = gates(c);
        Nd4j.getRandom().setSeed(seed);
        // PyTorch's defaults: embedding N(0,1); the cells' weights and biases U(+-1/sqrt(H)) as torch.nn.RNN/LSTM/GRU;
        // the linear layers U(+-1/sqrt(fan-in)). (DL4J's Xavier started the embeddings ~150x weaker than the image term.)
        Map<String, INDArray> init = new HashMap<>();
        init.put("E", Nd4j.randn(dtype, c.vocabSize(), e));
        init.put("W_p", Parameters.uniform(dtype, 1 / Math.sqrt(d), d, p));
        init.put("b_p", Parameters.uniform(dtype, 1 / Math.sqrt(d), 1, p));
        init.put("W_v", Parameters.uniform(dtype, 1 / Math.sqrt(h), p, g));
        for (int l = 1; l <= c.layers(); l++) {
            init.put(name("W_x", "W_i", l), Parameters.uniform(dtype, 1 / Math.sqrt(h), l == 1 ? e : h, g));
            init.put(name("b", "b", l), Parameters.uniform(dtype, 1 / Math.sqrt(h), 1, g));
            init.put(name("W_h", "W_h", l), Parameters.uniform(dtype, 1 / Math.sqrt(h), h, g));
            if (c.type() == DecoderType.GRU) init.put(name("b_hn", "b_hn", l), Parameters.uniform(dtype, 1 / Math.sqrt(h), 1, h));
        }
        init.put("W_out", Parameters.uniform(dtype, 1 / Math.sqrt(h), h, c.vocabSize()));
        init.put("b_out", Parameters.uniform(dtype, 1 / Math.sqrt(h), 1, c.vocabSize()));
        Parameters ps = new Parameters(names(c.type(), c.layers()), learningRate);
        ps.init(init);
        return new RecurrentDecoder(c, ps, seed);
    }

    /** A decoder file; rnn and lstm files written by DL4J's ModelSerializer are converted as they load. */
    public static RecurrentDecoder load(DecoderConfig c, Path file, boolean withUpdater, double learningRate) throws IOException {
        String what = "a " + c.layers() + "-layer " + c.type().id() + " decoder";
        Parameters ps = Dl4jDecoderFile.is(file) ? Dl4jDecoderFile.read(file, c, names(c.type(), c.layers()), learningRate)
                : load(file, names(c.type(), c.layers()), withUpdater, learningRate, what, c.vocabSize());
        return new RecurrentDecoder(c, ps, 42);
    }

    @Override
    Pass pass(CaptionBatch batch, Rows rows, boolean train, boolean grads) {
        DataType dt = params.get("E").dataType();
        int n = rows.n(), steps = rows.steps(), h = c.hidden(), layers = c.layers();
        long all = (long) n * steps;
        INDArray vec = batch.vectors().castTo(dt), vp = project.forward(vec), gv = image.forward(vp);  // [B,P], [B,G]
        INDArray[] layerIn = new INDArray[layers], drops = new INDArray[layers + 1];
        RecurrentCell.Step[][] tape = new RecurrentCell.Step[layers][steps];
        INDArray below = embed.forward(rows.inputs());                                     // [T*B,E]
        for (int l = 0; l < layers; l++) {
            if (l > 0) drops[l] = dropout.mask(train, all, h, dt);                        // between layers
            layerIn[l] = Dropout.apply(below, drops[l]);
            INDArray gi = input[l].forward(layerIn[l]);                                     // [T*B,G]  all steps at once
            if (l == 0) for (int t = 0; t < steps; t++) rows.step(gi, t).addi(gv);         //  + v' W_v at every step
            INDArray outAll = Nd4j.create(dt, all, h);                                      // [T*B,H]  h^l_t
            INDArray[] state = zeros(dt, n, cells[l].stateSize());
            for (int t = 0; t < steps; t++) {
                tape[l][t] = cells[l].forward(rows.step(gi, t).dup(), state);
                state = tape[l][t].state();
                rows.step(outAll, t).assign(state[0]);
            }
            below = outAll;
        }
        drops[layers] = dropout.mask(train, all, h, dt);
        INDArray hOut = Dropout.apply(below, drops[layers]);
        var ce = WeightedCrossEntropy.forward(out.forward(hOut), rows.targets(), rows.weights(), rows.mask());
        if (!grads) return new Pass(ce.loss(), 0, null, ce.probabilities(), 0);

        Map<String, INDArray> g = params.zeroGradients();
        INDArray dLogits = WeightedCrossEntropy.backward(ce, rows.targets(), rows.weights(), rows.mask());
        out.backward(hOut, dLogits, g);
        INDArray dH = Dropout.apply(out.inputGradient(dLogits), drops[layers]);            // [T*B,H]  d h^N
        INDArray dGv = null;
        for (int l = layers - 1; l >= 0; l--) {
            INDArray dGi = Nd4j.create(dt, all, gates(c));                                   // [T*B,G]
            INDArray[] dNext = new INDArray[cells[l].stateSize()];
            dNext[0] = Nd4j.zeros(dt, n, h);
            for (int t = steps - 1; t >= 0; t--) {
                INDArray[] dState = dNext.clone();
                dState[0] = rows.step(dH, t).add(dNext[0]);
                RecurrentCell.Gradients d = cells[l].backward(tape[l][t], dState, g);
                rows.step(dGi, t).assign(d.dIn());
                dNext = d.dPrev();
            }
            input[l].backward(layerIn[l], dGi, g);
            INDArray dIn = input[l].inputGradient(dGi);                                     // [T*B, E or H]
            if (l > 0) {
                dH = Dropout.apply(dIn, drops[l]);                                          // d h^{l-1}
            } else {
                embed.backward(rows.inputs(), dIn, g);
                dGv = dGi.reshape(steps, n, gates(c)).sum(0);                               // [B,G]  v' W_v at every step
            }
        }
        image.backward(vp, dGv, g);
        project.backward(vec, image.inputGradient(dGv), g);
        return new Pass(ce.loss(), 0, g, null, 0);
    }

    /** A zero state, {h} or {h, c}: [n,H] each. */
    private INDArray[] zeros(DataType dt, int n, int count) {
        INDArray[] z = new INDArray[count];
        for (int i = 0; i < count; i++) z[i] = Nd4j.zeros(dt, n, c.hidden());
        return z;
    }

    // ---------------------------------------------------------------- step-by-step decoding

    /** N captions' states: the image term of the first layer's input, and each layer's state ({h} or {h, c}). */
    private static final class State implements DecodingState {
        final INDArray gv;           // [N,G] v' W_v
        final INDArray[][] layers;   // per layer, [N,H] each

        State(INDArray gv, INDArray[][] layers) {
            this.gv = gv;
            this.layers = layers;
        }

        @Override
        public int size() {
            return (int) gv.size(0);
        }

        @Override
        public DecodingState select(int[] rows) {
            INDArray[][] s = new INDArray[layers.length][];
            for (int l = 0; l < layers.length; l++) {
                s[l] = new INDArray[layers[l].length];
                for (int k = 0; k < s[l].length; k++) s[l][k] = layers[l][k].getRows(rows);
            }
            return new State(gv.getRows(rows), s);
        }
    }

    @Override
    public DecodingState start(INDArray vectors, INDArray grids) {
        DataType dt = params.get("E").dataType();
        INDArray[][] s = new INDArray[c.layers()][];
        for (int l = 0; l < s.length; l++) s[l] = zeros(dt, (int) vectors.size(0), cells[l].stateSize());
        return new State(image.forward(project.forward(vectors.castTo(dt))), s);
    }

    @Override
    public synchronized INDArray step(DecodingState state, int[] tokens) {
        State s = (State) state;
        INDArray below = embed.forward(tokens);                                            // [N,E]
        for (int l = 0; l < c.layers(); l++) {
            INDArray in = input[l].forward(below);                                          // [N,G]
            if (l == 0) in.addi(s.gv);
            s.layers[l] = cells[l].forward(in, s.layers[l]).state();
            below = s.layers[l][0];
        }
        return Transforms.softmax(out.forward(below), false);                              // [N,V]
    }
}
