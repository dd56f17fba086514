package org.captioner.encoder;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Writes a Keras 2 layout VGG16 weight file with constant weights (convolutions only, or with fc1/fc2). */
final class Vgg16Fixture {
    private Vgg16Fixture() {
    }

    static void writeKeras2(Path p, boolean withTop) {
        int[][] convs = {{3, 64}, {64, 64}, {64, 128}, {128, 128}, {128, 256}, {256, 256}, {256, 256},
                {256, 512}, {512, 512}, {512, 512}, {512, 512}, {512, 512}, {512, 512}};
        String[] names = {"block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1", "block3_conv2",
                "block3_conv3", "block4_conv1", "block4_conv2", "block4_conv3", "block5_conv1", "block5_conv2", "block5_conv3"};
        List<String> layers = new ArrayList<>(List.of(names));
        if (withTop) layers.addAll(List.of("flatten", "fc1", "fc2"));
        try (WritableHdfFile f = HdfFile.write(p)) {
            f.putAttribute("layer_names", layers.toArray(new String[0]));
            for (int i = 0; i < names.length; i++) {
                put(f, names[i], new float[3][3][convs[i][0]][convs[i][1]], new float[convs[i][1]]);
            }
            if (withTop) {
                f.putGroup("flatten");
                put(f, "fc1", new float[25088][4096], new float[4096]);
                put(f, "fc2", new float[4096][4096], new float[4096]);
            }
        }
    }

    private static void put(WritableHdfFile f, String name, Object kernel, float[] bias) {
        WritableGroup g = f.putGroup(name);
        g.putAttribute("weight_names", new String[] {name + "/kernel:0", name + "/bias:0"});
        WritableGroup inner = g.putGroup(name);
        inner.putDataset("kernel:0", kernel);
        inner.putDataset("bias:0", bias);
    }
}
