package org.captioner.encoder;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.model.VGG16;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * VGG16 from the DL4J zoo. Its vertices are named "0".."20"; this class maps them to the Keras layer
 * names used in the Keras weight files.
 */
public final class Vgg16Graph {
    /** block5_conv3: [B, 512, 14, 14]. */
    public static final String GRID_VERTEX = "16";
    /** fc2: [B, 4096]. */
    public static final String VECTOR_VERTEX = "19";

    private Vgg16Graph() {
    }

    public static ComputationGraph build() {
        // numClasses is required by the zoo builder even though we stop at fc2.
        return VGG16.builder().numClasses(1000).build().init();
    }

    /** DL4J zoo vertex name -> Keras layer name, for every weighted layer (fc1 follows a flatten). */
    public static Map<String, String> kerasNames() {
        Map<String, String> m = new LinkedHashMap<>();
        String[] convs = {"block1_conv1", "block1_conv2", null, "block2_conv1", "block2_conv2", null,
                "block3_conv1", "block3_conv2", "block3_conv3", null, "block4_conv1", "block4_conv2",
                "block4_conv3", null, "block5_conv1", "block5_conv2", "block5_conv3", null};
        for (int i = 0; i < convs.length; i++) {
            if (convs[i] != null) m.put(Integer.toString(i), convs[i]);
        }
        m.put("18", "fc1");
        m.put("19", "fc2");
        m.put("20", "predictions");
        return m;
    }
}
