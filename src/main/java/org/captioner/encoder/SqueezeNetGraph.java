package org.captioner.encoder;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

import java.util.ArrayList;
import java.util.List;

/**
 * SqueezeNet v1.1 up to fire9, as a DL4J ComputationGraph laid out exactly like the Keras model the
 * ImageNet weights come from (vertex names are the Keras layer names, e.g. {@code fire2/squeeze1x1}).
 *
 * <p>Why not {@code org.deeplearning4j.zoo.model.SqueezeNet#init()}: in 1.0.0-M2.1 its graph builder
 * wires {@code conv10} to the input, misnames {@code fireN_exp1x1} and has no padding on the 3x3 expand
 * convolutions, so it cannot be built; the zoo class is still used for its pretrained URL and checksum.
 */
public final class SqueezeNetGraph {
    public static final String INPUT = "input";
    public static final String OUTPUT = "fire9/concat";

    private SqueezeNetGraph() {
    }

    public static ComputationGraph build(int inputSize) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
                .seed(1234)
                .weightInit(WeightInit.RELU)
                .convolutionMode(ConvolutionMode.Truncate) // Keras "valid"
                .graphBuilder()
                .addInputs(INPUT)
                .setInputTypes(InputType.convolutional(inputSize, inputSize, 3));

        // Stem: 224 -> conv 3x3/2 -> 111 -> maxpool 3x3/2 -> 55
        g.addLayer("conv1", conv(3, 64, 2, false), INPUT);
        g.addLayer("pool1", maxPool(), "conv1");
        String x = fire(g, 2, 16, 64, "pool1");
        x = fire(g, 3, 16, 64, x);
        g.addLayer("pool3", maxPool(), x);                 // 55 -> 27
        x = fire(g, 4, 32, 128, "pool3");
        x = fire(g, 5, 32, 128, x);
        g.addLayer("pool5", maxPool(), x);                 // 27 -> 13
        x = fire(g, 6, 48, 192, "pool5");
        x = fire(g, 7, 48, 192, x);
        x = fire(g, 8, 64, 256, x);
        x = fire(g, 9, 64, 256, x);                        // [B, 512, 13, 13]
        g.setOutputs(x);
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        return net;
    }

    /** Keras layer names carrying weights, in graph order. */
    public static List<String> weightedLayers() {
        List<String> names = new ArrayList<>(List.of("conv1"));
        for (int i = 2; i <= 9; i++) {
            names.add("fire" + i + "/squeeze1x1");
            names.add("fire" + i + "/expand1x1");
            names.add("fire" + i + "/expand3x3");
        }
        return names;
    }

    /** Fire module: squeeze 1x1 then parallel expand 1x1 and 3x3 ("same" padding), concatenated on channels. */
    private static String fire(ComputationGraphConfiguration.GraphBuilder g, int id, int squeeze, int expand, String in) {
        String p = "fire" + id + "/";
        g.addLayer(p + "squeeze1x1", conv(1, squeeze, 1, false), in);
        g.addLayer(p + "expand1x1", conv(1, expand, 1, false), p + "squeeze1x1");
        g.addLayer(p + "expand3x3", conv(3, expand, 1, true), p + "squeeze1x1");
        // Order matters: Keras concatenates expand1x1 channels first, then expand3x3.
        g.addVertex(p + "concat", new MergeVertex(), p + "expand1x1", p + "expand3x3");
        return p + "concat";
    }

    private static ConvolutionLayer conv(int k, int nOut, int stride, boolean same) {
        return new ConvolutionLayer.Builder(k, k).stride(stride, stride).nOut(nOut)
                .convolutionMode(same ? ConvolutionMode.Same : ConvolutionMode.Truncate)
                .activation(Activation.RELU).build();
    }

    private static SubsamplingLayer maxPool() {
        return new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                .kernelSize(3, 3).stride(2, 2).build();
    }
}
