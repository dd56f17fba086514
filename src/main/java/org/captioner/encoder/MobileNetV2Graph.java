package org.captioner.encoder;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The MobileNetV2 body as a DL4J ComputationGraph, built from a TFLite file's own operators and tensors:
 * the stem convolution, the 17 inverted-residual blocks (1x1 expand + ReLU6, 3x3 depthwise + ReLU6, 1x1
 * linear projection, residual add where shapes allow) and {@code Conv_1} (1x1 to 1280 channels, ReLU6). The
 * operators are walked in the file's execution order up to the first one that is not a convolution or an
 * add (the classifier's average pool), whose input is the feature grid. Batch norm is already folded into
 * the convolutions in that file, so each TFLite op maps to exactly one DL4J layer or vertex; vertex names
 * are the TFLite output tensor names (e.g. {@code MobilenetV2/expanded_conv_3/depthwise/Relu6}).
 *
 * <p>Padding: TF "SAME" pads the extra row/column of a stride-2 convolution at the bottom/right, which is
 * what DL4J's {@link ConvolutionMode#Same} does too (checked against the independent reference features).
 */
public final class MobileNetV2Graph {
    public static final String INPUT = "input";
    static final CNN2DFormat FORMAT = CNN2DFormat.valueOf(System.getProperty("captioner.mnv2.format", "NHWC"));

    /** The graph, the vertex that outputs the grid, and the number of blocks found (for checks and logs). */
    public record Built(ComputationGraph graph, String gridVertex, int convolutions, int depthwise, int adds, boolean nhwc) {
    }

    private MobileNetV2Graph() {
    }

    /**
     * Builds the graph from the file's operators at the given input size; {@code loadWeights} false keeps DL4J's random
     * initialisation (the architecture alone, e.g. for timing other input sizes).
     */
    public static Built build(TfliteFile f, int inputSize, boolean loadWeights) throws IOException {
        if (f.inputs().length != 1) throw new IOException(f.file() + ": expected one input tensor, found " + f.inputs().length);
        TfliteFile.Tensor in = f.tensor(f.inputs()[0]);
        if (in.shape().length != 4 || in.shape()[3] != 3) {
            throw new IOException(f.file() + ": input " + in + " is not an NHWC RGB image");
        }
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
                .seed(1234)
                .weightInit(WeightInit.RELU)
                .graphBuilder()
                .addInputs(INPUT)
                .setInputTypes(InputType.convolutional(inputSize, inputSize, 3, FORMAT));
        Map<Integer, String> vertexOf = new HashMap<>();   // tensor index -> vertex producing it
        vertexOf.put(in.index(), INPUT);
        Map<String, TfliteFile.Operator> weighted = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        String grid = null;
        int convs = 0, dws = 0, adds = 0;
        for (TfliteFile.Operator op : f.operators()) {
            if (op.builtin() != TfliteFile.CONV_2D && op.builtin() != TfliteFile.DEPTHWISE_CONV_2D
                    && op.builtin() != TfliteFile.ADD) {
                grid = vertexOf.get(op.inputs()[0]);
                break;
            }
            String x = vertexOf.get(op.inputs()[0]);
            if (x == null) throw new IOException(f.file() + ": operator input " + f.tensor(op.inputs()[0]) + " is not produced earlier");
            String name = uniqueName(f.tensor(op.outputs()[0]).name(), names);
            TfliteFile.Options o = op.options();
            if (o == null) throw new IOException(f.file() + ": operator producing " + name + " has no options");
            if (op.builtin() == TfliteFile.ADD) {
                String y = vertexOf.get(op.inputs()[1]);
                if (y == null) throw new IOException(f.file() + ": add " + name + " has an input not produced earlier");
                String sum = o.activation() == TfliteFile.ACT_NONE ? name : name + "/sum";
                g.addVertex(sum, new ElementWiseVertex(ElementWiseVertex.Op.Add), x, y);
                if (!sum.equals(name)) g.addLayer(name, new ActivationLayer(activation(o.activation(), name)), sum);
                adds++;
            } else {
                if (o.dilationW() != 1 || o.dilationH() != 1) throw new IOException(f.file() + ": dilated convolution " + name + " is not supported");
                int[] w = f.tensor(op.inputs()[1]).shape();  // conv [O, kh, kw, I]; depthwise [1, kh, kw, C*m]
                ConvolutionMode mode = switch (o.padding()) {
                    case TfliteFile.SAME -> ConvolutionMode.Same;
                    case TfliteFile.VALID -> ConvolutionMode.Truncate;
                    default -> throw new IOException(f.file() + ": unknown padding " + o.padding() + " in " + name);
                };
                if (op.builtin() == TfliteFile.CONV_2D) {
                    g.addLayer(name, new ConvolutionLayer.Builder(w[1], w[2]).stride(o.strideH(), o.strideW())
                            .nIn(w[3]).nOut(w[0]).convolutionMode(mode).dataFormat(FORMAT).hasBias(op.inputs().length > 2 && op.inputs()[2] >= 0)
                            .activation(activation(o.activation(), name)).build(), x);
                    convs++;
                } else {
                    int m = Math.max(1, o.depthMultiplier());
                    g.addLayer(name, new DepthwiseConvolution2D.Builder(w[1], w[2]).stride(o.strideH(), o.strideW())
                            .nIn(w[3] / m).nOut(w[3]).depthMultiplier(m).convolutionMode(mode).dataFormat(FORMAT)
                            .hasBias(op.inputs().length > 2 && op.inputs()[2] >= 0)
                            .activation(activation(o.activation(), name)).build(), x);
                    dws++;
                }
                weighted.put(name, op);
            }
            vertexOf.put(op.outputs()[0], name);
        }
        if (grid == null) throw new IOException(f.file() + ": no pooling/classifier op found after the convolutions");
        g.setOutputs(grid);
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        if (loadWeights) {
            for (Map.Entry<String, TfliteFile.Operator> e : weighted.entrySet()) setWeights(f, net, e.getKey(), e.getValue());
        }
        return new Built(net, grid, convs, dws, adds, FORMAT == CNN2DFormat.NHWC);
    }

    private static void setWeights(TfliteFile f, ComputationGraph net, String name, TfliteFile.Operator op) throws IOException {
        TfliteFile.Tensor wt = f.tensor(op.inputs()[1]);
        int[] s = wt.shape();
        float[] w = f.constant(wt);
        INDArray weights;
        if (op.builtin() == TfliteFile.CONV_2D) {
            // TFLite [O, kh, kw, I] -> DL4J [O, I, kh, kw]
            weights = Nd4j.create(w, new long[] {s[0], s[1], s[2], s[3]}, 'c').permute(0, 3, 1, 2).dup('c');
        } else {
            // TFLite [1, kh, kw, C*m] -> DL4J [kh, kw, C, m]: the same memory order
            int m = Math.max(1, op.options().depthMultiplier());
            weights = Nd4j.create(w, new long[] {s[1], s[2], s[3] / m, m}, 'c');
        }
        var layer = net.getLayer(name);
        long[] expect = layer.getParam("W").shape();
        if (!java.util.Arrays.equals(expect, weights.shape())) {
            throw new IOException(f.file() + ": weights of " + name + " have shape " + java.util.Arrays.toString(weights.shape())
                    + ", the layer needs " + java.util.Arrays.toString(expect));
        }
        layer.setParam("W", weights);
        if (op.inputs().length > 2 && op.inputs()[2] >= 0) {
            float[] b = f.constant(f.tensor(op.inputs()[2]));
            layer.setParam("b", Nd4j.create(b, new long[] {1, b.length}, 'c'));
        }
    }

    private static Activation activation(int fused, String name) throws IOException {
        return switch (fused) {
            case TfliteFile.ACT_NONE -> Activation.IDENTITY;
            case TfliteFile.ACT_RELU -> Activation.RELU;
            case TfliteFile.ACT_RELU6 -> Activation.RELU6;
            default -> throw new IOException("unsupported fused activation " + fused + " in " + name);
        };
    }

    private static String uniqueName(String tensorName, List<String> names) {
        // this file's converter joins every fused op's name with ';': the first is the op's own output
        String first = tensorName == null ? "" : tensorName.split(";", 2)[0];
        String base = first.isBlank() ? "op" + names.size() : first;
        String n = base;
        for (int i = 2; names.contains(n); i++) n = base + "_" + i;
        names.add(n);
        return n;
    }
}
