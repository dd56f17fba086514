package org.captioner.encoder;

import java.util.List;
import java.util.Locale;

/** The CNN encoders Captioner knows, with the shapes of what they produce. */
public enum EncoderType {
    /** SqueezeNet v1.1: vector = mean of the fire9 grid (512), grid = fire9 (13x13x512). */
    SQUEEZENET("squeezenet", 224, 512, 13, 512,
            List.of("squeezenet_v1.1_imagenet_notop.h5", "squeezenet_v1.1_imagenet.h5",
                    "squeezenet_dl4j_inference.v2.zip")),
    /** VGG16: vector = fc2 (4096), grid = block5_conv3 (14x14x512). */
    VGG16("vgg16", 224, 4096, 14, 512,
            List.of("vgg16_weights_tf_dim_ordering_tf_kernels.h5",
                    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "vgg16_dl4j_inference.zip"));

    public final String id;
    public final int inputSize;
    public final int vectorSize;
    /** Grid side: the grid has side*side cells. */
    public final int gridSide;
    public final int gridChannels;
    /** File names looked for in CAPTIONER_WEIGHTS_DIR, in order of preference. */
    public final List<String> conventionalWeightFiles;

    EncoderType(String id, int inputSize, int vectorSize, int gridSide, int gridChannels, List<String> files) {
        this.id = id;
        this.inputSize = inputSize;
        this.vectorSize = vectorSize;
        this.gridSide = gridSide;
        this.gridChannels = gridChannels;
        this.conventionalWeightFiles = files;
    }

    public int gridCells() {
        return gridSide * gridSide;
    }

    public static EncoderType parse(String s) {
        for (EncoderType t : values()) {
            if (t.id.equalsIgnoreCase(s) || t.name().equalsIgnoreCase(s)) return t;
        }
        throw new IllegalArgumentException("unknown encoder '" + s + "' (expected one of: squeezenet, vgg16)");
    }

    @Override
    public String toString() {
        return id.toLowerCase(Locale.ROOT);
    }
}
