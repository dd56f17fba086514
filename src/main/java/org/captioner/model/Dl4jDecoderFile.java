package org.captioner.model;

import org.captioner.layers.Parameters;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.ZipFile;

/**
 * Reads the rnn and lstm decoder files of earlier versions, which were DL4J ComputationGraphs (ModelSerializer zips:
 * embedding "embed", image projection "project", recurrent layers "rnn", "rnn2", ..., output "out"), into the
 * parameters of {@link RecurrentDecoder}: same weights, same outputs (RecurrentDecoderTest). DL4J's LSTM orders its gate
 * blocks block input | forget | output | input gate; the layers here i | f | o | g. The Adam state is not carried
 * over: training resumed from such a file starts its optimiser afresh.
 */
final class Dl4jDecoderFile {
    private Dl4jDecoderFile() {
    }

    /** Whether {@code file} is a DL4J ModelSerializer zip (it has configuration.json and coefficients.bin). */
    static boolean is(Path file) {
        try (ZipFile z = new ZipFile(file.toFile())) {
            return z.getEntry("configuration.json") != null && z.getEntry("coefficients.bin") != null;
        } catch (IOException e) {
            return false;
        }
    }

    static Parameters read(Path file, DecoderConfig c, String[] names, double learningRate) throws IOException {
        ComputationGraph net;
        try {
            net = ModelSerializer.restoreComputationGraph(file.toFile(), false);
        } catch (RuntimeException e) {
            throw new IOException(file + " is not a DL4J " + c.type().id() + " decoder: " + e.getMessage(), e);
        }
        Map<String, INDArray> t = net.paramTable();
        int layers = 0;
        while (t.containsKey(layer(layers + 1) + "_W")) layers++;
        if (layers != c.layers()) {
            throw new IOException(file + ": the network has " + layers + " recurrent layer(s) but the model's config.json says " + c.layers());
        }
        if (t.get("out_W").size(1) != c.vocabSize()) {
            throw new IOException(file + ": the network predicts " + t.get("out_W").size(1) + " words but the vocabulary has " + c.vocabSize());
        }
        Map<String, INDArray> p = new HashMap<>();
        p.put("E", t.get("embed_W"));
        p.put("W_p", t.get("project_W"));
        p.put("b_p", t.get("project_b"));
        INDArray w1 = gates(c, t.get("rnn_W"));                                              // [E+P, G]: rows x then v'
        p.put("W_x", w1.get(NDArrayIndex.interval(0, c.embedSize()), NDArrayIndex.all()));
        p.put("W_v", w1.get(NDArrayIndex.interval(c.embedSize(), w1.size(0)), NDArrayIndex.all()));
        for (int l = 1; l <= layers; l++) {
            if (l > 1) p.put("W_i" + l, gates(c, t.get(layer(l) + "_W")));
            p.put(l == 1 ? "W_h" : "W_h" + l, gates(c, t.get(layer(l) + "_RW")));
            p.put(l == 1 ? "b" : "b" + l, gates(c, t.get(layer(l) + "_b")));
        }
        p.put("W_out", t.get("out_W"));
        p.put("b_out", t.get("out_b"));
        p.replaceAll((k, v) -> v.dup('c').reshape(v.rank() == 1 ? new long[] {1, v.length()} : v.shape()));
        Parameters ps = new Parameters(names, learningRate);
        ps.init(p);
        net.close();
        return ps;
    }

    private static String layer(int l) {
        return l == 1 ? "rnn" : "rnn" + l;
    }

    /** An LSTM weight's columns from DL4J's order (z | f | o | i) to i | f | o | g; rnn weights as they are. */
    private static INDArray gates(DecoderConfig c, INDArray w) {
        if (c.type() != DecoderType.LSTM) return w;
        long h = c.hidden();
        INDArray m = w.rank() == 1 ? w.reshape(1, w.length()) : w;
        return Nd4j.hstack(block(m, 3, h), block(m, 1, h), block(m, 2, h), block(m, 0, h));
    }

    private static INDArray block(INDArray w, int k, long h) {
        return w.get(NDArrayIndex.all(), NDArrayIndex.interval(k * h, (k + 1) * h));
    }
}
