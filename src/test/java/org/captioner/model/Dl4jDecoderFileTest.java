package org.captioner.model;

import org.captioner.data.TrainingSet;
import org.captioner.encoder.NativeSetup;
import org.captioner.train.BatchBuilder;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.distribution.UniformDistribution;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.rnn.DuplicateToTimeSeriesVertex;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossSparseMCXENT;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * rnn and lstm decoder files of earlier versions (DL4J ComputationGraphs, built here as those versions built them) load
 * into the layer decoders and give DL4J's probabilities; a file whose layer count or vocabulary is not the model's is
 * refused by name.
 */
class Dl4jDecoderFileTest {
    @BeforeAll
    static void setup() {
        NativeSetup.init();
    }

    /** The graph of the earlier rnn/lstm decoder: embed + project, repeat, merge, stacked recurrent layers, softmax. */
    static ComputationGraph earlierGraph(DecoderConfig c) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(5)
                .weightInit(new UniformDistribution(-0.5, 0.5)).graphBuilder().addInputs("words", "image");
        g.addLayer("embed", new EmbeddingSequenceLayer.Builder().nIn(c.vocabSize()).nOut(c.embedSize()).build(), "words");
        g.addLayer("project", new DenseLayer.Builder().nIn(c.imageDim()).nOut(c.imageProjection()).activation(Activation.IDENTITY)
                .biasInit(0.3).build(), "image");
        g.addVertex("repeat", new DuplicateToTimeSeriesVertex("words"), "project");
        g.addVertex("merge", new MergeVertex(), "embed", "repeat");
        String below = "merge";
        for (int l = 1; l <= c.layers(); l++) {
            BaseRecurrentLayer.Builder<?> rb = c.type() == DecoderType.RNN ? new SimpleRnn.Builder().activation(Activation.TANH)
                    : new LSTM.Builder().activation(Activation.TANH);
            rb.nIn(l == 1 ? c.embedSize() + c.imageProjection() : c.hidden()).nOut(c.hidden()).biasInit(0.2).dataFormat(RNNFormat.NCW);
            String name = l == 1 ? "rnn" : "rnn" + l;
            g.addLayer(name, rb.build(), below);
            below = name;
        }
        g.addLayer("out", new RnnOutputLayer.Builder(new LossSparseMCXENT()).nIn(c.hidden()).nOut(c.vocabSize())
                .activation(Activation.SOFTMAX).dataFormat(RNNFormat.NCW).build(), below);
        g.setOutputs("out");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        return net;
    }

    @ParameterizedTest
    @CsvSource({"RNN, 1", "LSTM, 1", "LSTM, 2"})
    void earlierFilesGiveTheSameProbabilities(DecoderType type, int layers, @TempDir Path dir) throws Exception {
        DecoderConfig c = new DecoderConfig(type, 11, 6, 5, 4, 7, 0.5, 10, 0, 0, 0).withLayers(layers);
        ComputationGraph net = earlierGraph(c);
        Path file = dir.resolve("decoder.zip");
        ModelSerializer.writeModel(net, file.toFile(), true);
        assertTrue(Dl4jDecoderFile.is(file));
        CaptionDecoder d = Decoders.load(c, file, true);
        float[][] vec = new float[3][6];
        for (int i = 0; i < 3; i++) for (int k = 0; k < 6; k++) vec[i][k] = (float) Math.sin(7 * i + k);
        CaptionBatch b = new BatchBuilder(BatchBuilder.Rows.of(vec), null).build(List.of(
                new TrainingSet.Pair(0, 0, new int[] {5, 6, 7, 8}), new TrainingSet.Pair(1, 1, new int[] {9, 4}),
                new TrainingSet.Pair(2, 2, new int[] {10, 3, 4, 5, 6})));
        INDArray expected = net.output(false, new INDArray[] {b.inputs(), b.vectors()}, new INDArray[] {b.mask(), null})[0];
        INDArray got = d.sequenceProbabilities(b);                                     // [B,V,T]
        for (int i = 0; i < b.size(); i++) {
            for (int t = 0; t < b.inputs().size(2); t++) {
                if (b.mask().getDouble(i, t) == 0) continue;
                for (int w = 0; w < c.vocabSize(); w++) {
                    assertEquals(expected.getDouble(i, w, t), got.getDouble(i, w, t), 1e-5, type + " caption " + i + " step " + t + " word " + w);
                }
            }
        }
        assertEquals(net.numParams(), d.parameterCount(), "every weight carried over");
    }

    @ParameterizedTest
    @CsvSource({"LSTM, 2, 11, layer", "LSTM, 1, 12, words"})
    void aMismatchedFileIsRefused(DecoderType type, int layers, int vocab, String what, @TempDir Path dir) throws Exception {
        Path file = dir.resolve("decoder.zip");
        ModelSerializer.writeModel(earlierGraph(new DecoderConfig(type, 11, 6, 5, 4, 7, 0.5, 10, 0, 0, 0)), file.toFile(), false);
        DecoderConfig c = new DecoderConfig(type, vocab, 6, 5, 4, 7, 0.5, 10, 0, 0, 0).withLayers(layers);
        var e = assertThrows(java.io.IOException.class, () -> Decoders.load(c, file, false));
        assertTrue(e.getMessage().contains(what), e.getMessage());
    }
}
