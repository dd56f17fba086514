package org.captioner.encoder;

import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Copies per-layer kernels from a Keras HDF5 weight file (Keras 1 or Keras 2 layout, weights-only or
 * full-model save) into a DL4J graph.
 *
 * <p>Layout conversions, which is where imports usually go wrong:
 * <ul>
 *   <li>Conv kernels are (kh, kw, in, out) in Keras and (out, in, kh, kw) in DL4J: a permute, not a reshape.</li>
 *   <li>Dense kernels are (in, out) in both, but a dense layer right after a flatten sees (h, w, c) order in
 *       Keras (channels-last) and (c, h, w) in DL4J: its rows are permuted too.</li>
 * </ul>
 * A layer that is missing, or whose arrays do not have the expected shapes, is an error naming it.
 */
public final class KerasWeightsImporter {

    /** How one DL4J layer gets its weights. */
    public record Mapping(String dl4jLayer, String kerasLayer, boolean optional, int[] flattenedChw) {
        public static Mapping of(String dl4j, String keras) {
            return new Mapping(dl4j, keras, false, null);
        }
    }

    private KerasWeightsImporter() {
    }

    /** Keras layer -> list of weight arrays in the file's order (kernel, bias). */
    public static Map<String, List<Dataset>> readLayers(HdfFile file) throws IOException {
        Group root = file;
        Node mw = file.getChildren().get("model_weights"); // full-model save
        if (mw instanceof Group g) root = g;
        Attribute layerNames = root.getAttribute("layer_names");
        if (layerNames == null) {
            throw new IOException("not a Keras weight file: no 'layer_names' attribute");
        }
        Map<String, List<Dataset>> out = new LinkedHashMap<>();
        for (String name : strings(layerNames.getData())) {
            Node n = root.getByPath(name);
            if (!(n instanceof Group g)) continue;
            Attribute wn = g.getAttribute("weight_names");
            List<Dataset> ws = new ArrayList<>();
            if (wn != null && wn.getData() != null) {
                for (String w : strings(wn.getData())) {
                    Node d = g.getByPath(w);
                    if (!(d instanceof Dataset ds)) throw new IOException("layer " + name + ": weight " + w + " not found");
                    ws.add(ds);
                }
            }
            out.put(name, ws);
        }
        return out;
    }

    public static void load(Path h5, ComputationGraph graph, List<Mapping> mappings) throws IOException {
        try (HdfFile f = new HdfFile(h5)) {
            Map<String, List<Dataset>> layers = readLayers(f);
            for (Mapping m : mappings) {
                List<Dataset> ws = layers.get(m.kerasLayer());
                if (ws == null || ws.isEmpty()) {
                    if (m.optional()) continue;
                    throw new IOException("layer '" + m.kerasLayer() + "' is missing from " + h5.getFileName()
                            + " (layers present: " + layers.keySet().stream().filter(k -> !layers.get(k).isEmpty()).toList() + ")");
                }
                copyLayer(m, ws, graph);
            }
        } catch (IOException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IOException("cannot read Keras weights from " + h5 + ": " + e.getMessage(), e);
        }
    }

    private static void copyLayer(Mapping m, List<Dataset> ws, ComputationGraph graph) throws IOException {
        Layer layer = graph.getLayer(m.dl4jLayer());
        if (layer == null) throw new IOException("graph has no layer '" + m.dl4jLayer() + "'");
        INDArray w = layer.getParam("W");
        INDArray b = layer.getParam("b");
        if (ws.size() != 2) {
            throw new IOException("layer '" + m.kerasLayer() + "': expected kernel and bias, found " + ws.size() + " arrays");
        }
        INDArray kernel = toArray(ws.get(0));
        INDArray bias = toArray(ws.get(1));
        INDArray converted;
        if (layer instanceof ConvolutionLayer) {
            // Keras (kh, kw, in, out) -> DL4J (out, in, kh, kw)
            if (kernel.rank() != 4) throw shape(m, "kernel", kernel.shape(), w.shape());
            converted = kernel.permute(3, 2, 0, 1);
        } else if (layer instanceof DenseLayer) {
            if (kernel.rank() != 2) throw shape(m, "kernel", kernel.shape(), w.shape());
            converted = kernel;
            if (m.flattenedChw() != null) {
                // Rows are in Keras flatten order (h, w, c); DL4J flattens (c, h, w).
                int c = m.flattenedChw()[0], h = m.flattenedChw()[1], wd = m.flattenedChw()[2];
                long out = kernel.size(1);
                if (kernel.size(0) != (long) c * h * wd) throw shape(m, "kernel", kernel.shape(), w.shape());
                converted = kernel.reshape('c', h, wd, c, out).permute(2, 0, 1, 3).dup('c').reshape('c', (long) c * h * wd, out);
            }
        } else {
            throw new IOException("layer '" + m.dl4jLayer() + "' is a " + layer.getClass().getSimpleName()
                    + ", not a convolution or dense layer");
        }
        if (!Arrays.equals(converted.shape(), w.shape())) throw shape(m, "kernel", kernel.shape(), w.shape());
        if (bias.length() != b.length()) throw shape(m, "bias", bias.shape(), b.shape());
        w.assign(converted);
        b.assign(bias.reshape(b.shape()));
    }

    private static IOException shape(Mapping m, String what, long[] got, long[] want) {
        return new IOException("layer '" + m.kerasLayer() + "': " + what + " has shape " + Arrays.toString(got)
                + ", which does not fit the network's " + Arrays.toString(want));
    }

    static INDArray toArray(Dataset ds) {
        int[] dims = ds.getDimensions();
        long[] shape = Arrays.stream(dims).asLongStream().toArray();
        float[] flat = new float[Arrays.stream(dims).reduce(1, (a, c) -> a * c)];
        flatten(ds.getData(), flat, new int[] {0});
        return Nd4j.create(flat, shape, 'c');
    }

    private static void flatten(Object data, float[] dest, int[] pos) {
        if (data instanceof float[] f) {
            System.arraycopy(f, 0, dest, pos[0], f.length);
            pos[0] += f.length;
        } else if (data instanceof double[] d) {
            for (double v : d) dest[pos[0]++] = (float) v;
        } else if (data.getClass().isArray()) {
            for (int i = 0; i < Array.getLength(data); i++) flatten(Array.get(data, i), dest, pos);
        } else if (data instanceof Number n) {
            dest[pos[0]++] = n.floatValue();
        } else {
            throw new IllegalArgumentException("unsupported HDF5 element type " + data.getClass());
        }
    }

    private static List<String> strings(Object data) {
        List<String> out = new ArrayList<>();
        if (data instanceof String s) out.add(s);
        else if (data != null && data.getClass().isArray()) {
            for (int i = 0; i < Array.getLength(data); i++) out.addAll(strings(Array.get(data, i)));
        }
        return out;
    }
}
