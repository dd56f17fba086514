package org.captioner.encoder;

import org.captioner.image.ImagePreprocessor;
import org.captioner.image.ImagePreprocessor.Normalisation;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The CNN encoders Captioner knows, with the shapes of what they produce and where their weights come from. */
public enum EncoderType {
    /** SqueezeNet v1.1: vector = mean of the fire9 grid (512), grid = fire9 (13x13x512). */
    SQUEEZENET("squeezenet", 224, 512, 13, 512, Normalisation.CAFFE_BGR, 32, true,
            List.of("squeezenet_v1.1_imagenet_notop.h5", "squeezenet_v1.1_imagenet.h5",
                    "squeezenet_dl4j_inference.v2.zip"),
            new PinnedWeights("https://raw.githubusercontent.com/DeepCognition/keras-squeezenet/"
                    + "a73d4339aa4d37c51a0b3ba044bed55477abec73/squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "17154246284f555591549ac2c83e127abfbf4307dc4b0060fdaa2931d0fa38da", 3_002_560L)),
    /** VGG16: vector = fc2 (4096), grid = block5_conv3 (14x14x512). Weights from the DL4J zoo only. */
    VGG16("vgg16", 224, 4096, 14, 512, Normalisation.CAFFE_BGR, 32, true,
            List.of("vgg16_weights_tf_dim_ordering_tf_kernels.h5",
                    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "vgg16_dl4j_inference.zip"),
            null),
    /**
     * MobileNetV2 1.0 224 (the official quantization-trained TFLite file, dequantized): vector = mean of the
     * grid (1280), grid = Conv_1 + ReLU6, the last feature map (7x7x1280).
     */
    MOBILENETV2("mobilenetv2", 224, 1280, 7, 1280, Normalisation.TF_RGB, 16, false,
            List.of("mobilenet_v2_1.0_224_quant.tflite"),
            new PinnedWeights("https://raw.githubusercontent.com/google-coral/test_data/"
                    + "104342d2d3480b3e66203073dac24f4e2dbb4c41/mobilenet_v2_1.0_224_quant.tflite",
                    "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776", 3_610_798L));

    /**
     * A weights file at a pinned public URL (a commit, not a branch, so it never changes) with its SHA-256:
     * what the product downloads and verifies itself, as Keras and torchvision do.
     */
    public record PinnedWeights(String url, String sha256, long bytes) {
        public String fileName() {
            return url.substring(url.lastIndexOf('/') + 1);
        }
    }

    public final String id;
    public final int inputSize;
    public final int vectorSize;
    /** Grid side: the grid has side*side cells. */
    public final int gridSide;
    public final int gridChannels;
    public final Normalisation normalisation;
    /** File names looked for in CAPTIONER_WEIGHTS_DIR, in order of preference. */
    public final List<String> conventionalWeightFiles;
    /** The pinned download, or null where the only source is the DL4J zoo. */
    public final PinnedWeights pinned;
    /**
     * CNN batch that ran fastest here ({@code bench encoder}): MobileNetV2's 112x112 activations fall out of cache
     * at larger batches (16: 61 images/s, 32: 52), SqueezeNet gains up to 32.
     */
    public final int defaultBatch;
    /** Whether the DL4J zoo has pretrained weights for it (the last place looked). */
    private final boolean inZoo;

    EncoderType(String id, int inputSize, int vectorSize, int gridSide, int gridChannels, Normalisation normalisation,
                int defaultBatch, boolean inZoo, List<String> files, PinnedWeights pinned) {
        this.id = id;
        this.inputSize = inputSize;
        this.vectorSize = vectorSize;
        this.gridSide = gridSide;
        this.gridChannels = gridChannels;
        this.normalisation = normalisation;
        this.conventionalWeightFiles = files;
        this.pinned = pinned;
        this.defaultBatch = defaultBatch;
        this.inZoo = inZoo;
    }

    public int gridCells() {
        return gridSide * gridSide;
    }

    /** The preprocessing this encoder's weights were trained with. */
    public ImagePreprocessor preprocessor() {
        return new ImagePreprocessor(inputSize, normalisation);
    }

    /** True when the DL4J zoo has pretrained weights for it (the last place looked). */
    public boolean inZoo() {
        return inZoo;
    }

    public static EncoderType parse(String s) {
        for (EncoderType t : values()) {
            if (t.id.equalsIgnoreCase(s) || t.name().equalsIgnoreCase(s)) return t;
        }
        throw new IllegalArgumentException("unknown encoder '" + s + "' (expected one of: " + names() + ")");
    }

    public static String names() {
        return Arrays.stream(values()).map(t -> t.id).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return id.toLowerCase(Locale.ROOT);
    }
}
