package org.captioner.encoder;

import org.captioner.util.Hashing;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Builds ready-to-use encoders with their ImageNet weights. */
public final class Encoders {
    private static final byte[] HDF5_MAGIC = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    private Encoders() {
    }

    /** Locates the weights (flag, CAPTIONER_WEIGHTS_DIR, zoo) and loads them. */
    public static ImageEncoder load(EncoderType type, Path explicitWeights) throws IOException {
        WeightsLocator.Located w = new WeightsLocator().locate(type, explicitWeights);
        return load(type, w.file(), w.origin());
    }

    public static ImageEncoder load(EncoderType type, Path weights, String origin) throws IOException {
        NativeSetup.init();
        String sha = Hashing.sha256(weights);
        return switch (detectFormat(weights)) {
            case KERAS_HDF5 -> fromKeras(type, weights, origin, sha);
            case DL4J_ZIP -> fromZooZip(type, weights, origin, sha);
            case TFLITE -> fromTflite(type, weights, origin, sha);
        };
    }

    /** Random (He-initialised) weights: for benchmarks and tests of code paths whose real weights are absent. */
    public static ImageEncoder random(EncoderType type) {
        NativeSetup.init();
        return switch (type) {
            case SQUEEZENET -> new GraphEncoder(type, SqueezeNetGraph.build(type.inputSize),
                    SqueezeNetGraph.OUTPUT, null, "random", "random");
            case VGG16 -> new GraphEncoder(type, Vgg16Graph.build(),
                    Vgg16Graph.GRID_VERTEX, Vgg16Graph.VECTOR_VERTEX, "random", "random");
            case MOBILENETV2 -> throw new IllegalArgumentException("mobilenetv2's architecture is read from its "
                    + ".tflite weights file, so it has no random-weights form; give the file instead");
        };
    }

    enum Format { KERAS_HDF5, DL4J_ZIP, TFLITE }

    static Format detectFormat(Path file) throws IOException {
        byte[] head = new byte[8];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, 8);
        }
        if (n == 8 && java.util.Arrays.equals(head, HDF5_MAGIC)) return Format.KERAS_HDF5;
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return Format.DL4J_ZIP;
        if (n == 8 && head[4] == 'T' && head[5] == 'F' && head[6] == 'L' && head[7] == '3') return Format.TFLITE;
        throw new IOException(file + " is not a weights file Captioner reads (a Keras HDF5, a DL4J model zip or a "
                + "TensorFlow Lite model)");
    }

    private static ImageEncoder fromTflite(EncoderType type, Path file, String origin, String sha) throws IOException {
        if (type != EncoderType.MOBILENETV2) {
            throw new IOException(file + " is a TensorFlow Lite model; only the mobilenetv2 encoder reads that format, not " + type);
        }
        TfliteFile tflite;
        try {
            tflite = TfliteFile.read(file);
        } catch (RuntimeException e) { // a truncated or corrupt flatbuffer reads past its end
            throw new IOException(file + " is not a readable TensorFlow Lite model: " + e, e);
        }
        MobileNetV2Graph.Built built = MobileNetV2Graph.build(tflite, type.inputSize, true);
        long channels = built.graph().getLayer(built.gridVertex()).getParam("W").size(0);
        if (built.depthwise() != 17 || channels != type.gridChannels) {
            throw new IOException(file + " is not MobileNetV2 1.0: " + built.depthwise() + " depthwise convolutions (17 expected), "
                    + channels + " output channels (" + type.gridChannels + " expected)");
        }
        return new GraphEncoder(type, built.graph(), built.gridVertex(), null, origin, sha, built.nhwc());
    }

    private static ImageEncoder fromKeras(EncoderType type, Path h5, String origin, String sha) throws IOException {
        switch (type) {
            case SQUEEZENET -> {
                ComputationGraph g = SqueezeNetGraph.build(type.inputSize);
                List<KerasWeightsImporter.Mapping> maps = new ArrayList<>();
                for (String l : SqueezeNetGraph.weightedLayers()) maps.add(KerasWeightsImporter.Mapping.of(l, l));
                KerasWeightsImporter.load(h5, g, maps);
                return new GraphEncoder(type, g, SqueezeNetGraph.OUTPUT, null, origin, sha);
            }
            case VGG16 -> {
                ComputationGraph g = Vgg16Graph.build();
                List<KerasWeightsImporter.Mapping> maps = new ArrayList<>();
                for (Map.Entry<String, String> e : Vgg16Graph.kerasNames().entrySet()) {
                    String dl4j = e.getKey(), keras = e.getValue();
                    if (keras.equals("predictions")) {
                        maps.add(new KerasWeightsImporter.Mapping(dl4j, keras, true, null)); // unused: we stop at fc2
                    } else if (keras.equals("fc1")) {
                        maps.add(new KerasWeightsImporter.Mapping(dl4j, keras, false, new int[] {512, 7, 7}));
                    } else {
                        maps.add(KerasWeightsImporter.Mapping.of(dl4j, keras));
                    }
                }
                try {
                    KerasWeightsImporter.load(h5, g, maps);
                } catch (IOException e) {
                    if (e.getMessage().contains("'fc1' is missing")) {
                        throw new IOException(e.getMessage() + ". The vgg16 image vector is fc2, so the full "
                                + "vgg16_weights_tf_dim_ordering_tf_kernels.h5 is needed, not the _notop file", e);
                    }
                    throw e;
                }
                return new GraphEncoder(type, g, Vgg16Graph.GRID_VERTEX, Vgg16Graph.VECTOR_VERTEX, origin, sha);
            }
            default -> throw new IOException(h5 + " is a Keras HDF5 file; the " + type + " encoder reads the official .tflite file");
        }
    }

    /** A DL4J zoo zip (serialized ComputationGraph). */
    private static ImageEncoder fromZooZip(EncoderType type, Path zip, String origin, String sha) throws IOException {
        if (type == EncoderType.MOBILENETV2) throw new IOException(zip + " is a DL4J zip; mobilenetv2 reads the official .tflite file");
        ComputationGraph g;
        try {
            g = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        } catch (Exception e) {
            throw new IOException(zip + " is a zip but not a DL4J ComputationGraph: " + e.getMessage(), e);
        }
        Map<String, GraphVertex> vertices = g.getConfiguration().getVertices();
        return switch (type) {
            case VGG16 -> {
                require(zip, vertices, Vgg16Graph.GRID_VERTEX);
                require(zip, vertices, Vgg16Graph.VECTOR_VERTEX);
                yield new GraphEncoder(type, g, Vgg16Graph.GRID_VERTEX, Vgg16Graph.VECTOR_VERTEX, origin, sha);
            }
            case SQUEEZENET -> {
                // The zoo graph was converted from Keras; its fire9 concatenation is the merge vertex named for fire9.
                String fire9 = vertices.entrySet().stream()
                        .filter(e -> e.getValue() instanceof MergeVertex && e.getKey().startsWith("fire9"))
                        .map(Map.Entry::getKey).findFirst()
                        .orElseThrow(() -> new IOException(zip + " has no fire9 merge vertex; vertices: " + vertices.keySet()));
                yield new GraphEncoder(type, g, fire9, null, origin, sha);
            }
            default -> throw new IllegalStateException();
        };
    }

    private static void require(Path zip, Map<String, GraphVertex> vertices, String name) throws IOException {
        if (!vertices.containsKey(name)) {
            throw new IOException(zip + " has no vertex '" + name + "': not the DL4J zoo VGG16 (vertices: " + vertices.keySet() + ")");
        }
    }
}
