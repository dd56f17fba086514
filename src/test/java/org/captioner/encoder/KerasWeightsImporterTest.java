package org.captioner.encoder;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Keras 2 layout (block1_conv1/block1_conv1/kernel:0) import into a DL4J graph, checked against a forward
 * pass computed directly from the Keras arrays in channels-last order, so a reshape instead of a permute,
 * or a dense layer fed in the wrong flatten order, fails.
 */
class KerasWeightsImporterTest {
    @TempDir
    Path dir;

    static final int C_IN = 3, SIDE = 4, K = 3, C_OUT = 4, OUT_SIDE = SIDE - K + 1, DENSE = 5;

    static ComputationGraph smallNet() {
        NativeSetup.init();
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(SIDE, SIDE, C_IN))
                .addLayer("conv", new ConvolutionLayer.Builder(K, K).nOut(C_OUT).activation(Activation.RELU)
                        .convolutionMode(ConvolutionMode.Truncate).build(), "in")
                .addLayer("fc", new DenseLayer.Builder().nOut(DENSE).activation(Activation.IDENTITY).build(), "conv")
                .setOutputs("fc").build());
        g.init();
        return g;
    }

    float[][][][] kernel = new float[K][K][C_IN][C_OUT];
    float[] convBias = new float[C_OUT];
    float[][] dense = new float[OUT_SIDE * OUT_SIDE * C_OUT][DENSE];
    float[] denseBias = new float[DENSE];

    Path writeFixture(boolean withDense, float[][] denseKernel) {
        Random r = new Random(7);
        for (float[][][] a : kernel) for (float[][] b : a) for (float[] c : b) for (int i = 0; i < c.length; i++) c[i] = (float) r.nextGaussian();
        for (int i = 0; i < C_OUT; i++) convBias[i] = (float) r.nextGaussian();
        for (float[] row : dense) for (int i = 0; i < row.length; i++) row[i] = (float) r.nextGaussian();
        for (int i = 0; i < DENSE; i++) denseBias[i] = (float) r.nextGaussian();
        Path p = dir.resolve("weights.h5");
        try (WritableHdfFile f = HdfFile.write(p)) {
            f.putAttribute("layer_names", withDense ? new String[] {"input_1", "conv", "flatten", "fc"} : new String[] {"input_1", "conv"});
            f.putGroup("input_1");
            WritableGroup conv = f.putGroup("conv");
            conv.putAttribute("weight_names", new String[] {"conv/kernel:0", "conv/bias:0"});
            WritableGroup inner = conv.putGroup("conv");
            inner.putDataset("kernel:0", kernel);
            inner.putDataset("bias:0", convBias);
            if (withDense) {
                f.putGroup("flatten");
                WritableGroup fc = f.putGroup("fc");
                fc.putAttribute("weight_names", new String[] {"fc/kernel:0", "fc/bias:0"});
                WritableGroup fcInner = fc.putGroup("fc");
                fcInner.putDataset("kernel:0", denseKernel == null ? dense : denseKernel);
                fcInner.putDataset("bias:0", denseBias);
            }
        }
        return p;
    }

    static List<KerasWeightsImporter.Mapping> mappings() {
        return List.of(KerasWeightsImporter.Mapping.of("conv", "conv"),
                new KerasWeightsImporter.Mapping("fc", "fc", false, new int[] {C_OUT, OUT_SIDE, OUT_SIDE}));
    }

    @Test
    void importedNetworkMatchesChannelsLastForwardPass() throws Exception {
        Path h5 = writeFixture(true, null);
        ComputationGraph g = smallNet();
        KerasWeightsImporter.load(h5, g, mappings());

        Random r = new Random(3);
        float[][][] x = new float[C_IN][SIDE][SIDE];
        float[] flatX = new float[C_IN * SIDE * SIDE];
        int k = 0;
        for (int c = 0; c < C_IN; c++) for (int h = 0; h < SIDE; h++) for (int w = 0; w < SIDE; w++) flatX[k++] = x[c][h][w] = (float) r.nextGaussian();
        INDArray out = g.outputSingle(Nd4j.create(flatX, new long[] {1, C_IN, SIDE, SIDE}, 'c'));

        // Reference: conv + relu in (h, w, c) order, flatten (h, w, c), dense.
        float[] flat = new float[OUT_SIDE * OUT_SIDE * C_OUT];
        for (int h = 0; h < OUT_SIDE; h++) for (int w = 0; w < OUT_SIDE; w++) for (int o = 0; o < C_OUT; o++) {
            double s = convBias[o];
            for (int kh = 0; kh < K; kh++) for (int kw = 0; kw < K; kw++) for (int i = 0; i < C_IN; i++) s += x[i][h + kh][w + kw] * kernel[kh][kw][i][o];
            flat[(h * OUT_SIDE + w) * C_OUT + o] = (float) Math.max(0, s);
        }
        for (int o = 0; o < DENSE; o++) {
            double s = denseBias[o];
            for (int j = 0; j < flat.length; j++) s += flat[j] * dense[j][o];
            assertEquals(s, out.getDouble(0, o), 1e-3, "output " + o);
        }
    }

    @Test
    void missingLayerIsNamed() {
        Path h5 = writeFixture(false, null);
        IOException e = assertThrows(IOException.class, () -> KerasWeightsImporter.load(h5, smallNet(), mappings()));
        assertTrue(e.getMessage().contains("'fc' is missing"), e.getMessage());
    }

    @Test
    void misShapedLayerIsNamed() {
        Path h5 = writeFixture(true, new float[7][DENSE]);
        IOException e = assertThrows(IOException.class, () -> KerasWeightsImporter.load(h5, smallNet(), mappings()));
        assertTrue(e.getMessage().contains("layer 'fc'") && e.getMessage().contains("shape"), e.getMessage());
    }

    @Test
    void fileWithoutLayerNamesIsNotKeras() throws Exception {
        Path p = dir.resolve("plain.h5");
        try (WritableHdfFile f = HdfFile.write(p)) {
            f.putDataset("x", new float[] {1, 2});
        }
        IOException e = assertThrows(IOException.class, () -> KerasWeightsImporter.load(p, smallNet(), mappings()));
        assertTrue(e.getMessage().contains("not a Keras weight file"), e.getMessage());
    }
}
