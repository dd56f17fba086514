package org.captioner.features;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The one rule every split reader matches images to feature rows by (FeatureSet.row). */
class FeatureSetTest {
    @TempDir
    Path dir;

    Path folder(String... names) throws Exception {
        Path f = Files.createDirectories(dir.resolve("f" + names.length + names[0].length()));
        try (NpyWriter v = NpyWriter.open(f.resolve(FeatureExtractor.VECTORS), NpyWriter.Dtype.FLOAT32, new long[] {2}, 0)) {
            for (String ignored : names) v.append(new float[] {1, 2});
        }
        Files.writeString(f.resolve(FeatureExtractor.NAMES), String.join("\n", names) + "\n");
        Files.writeString(f.resolve(FeatureExtractor.META), new ObjectMapper().writeValueAsString(java.util.Map.of("encoder", "mobilenetv2",
                "weights_sha256", "x", "vector_dim", 2, "grid_side", 1, "grid_channels", 2, "grid_dtype", "float16", "images", names.length)));
        return f;
    }

    @Test
    void karpathyPathsBareNamesAndCocoIdsMatchTheSameRow() throws Exception {
        // features of folders as 'features' stores them: bare names (2014 files)
        try (FeatureSet fs = new FeatureSet(folder("COCO_train2014_000000000009.jpg", "COCO_val2014_000000391895.jpg"))) {
            assertEquals(1, fs.row("COCO_val2014_000000391895.jpg"));
            assertEquals(1, fs.row("val2014/COCO_val2014_000000391895.jpg"), "a Karpathy path finds the bare name");
            assertEquals(1, fs.row("000000391895.jpg"), "the 2017 name of the same image");
            assertEquals(0, fs.row("train2014/COCO_train2014_000000000009.jpg"));
            assertEquals(-1, fs.row("val2014/COCO_val2014_000000000001.jpg"));
        }
        // features stored with folders, 2017 files: Karpathy's 2014 paths and bare names find them
        try (FeatureSet fs = new FeatureSet(folder("val2017/000000391895.jpg", "train2017/000000000009.jpg"))) {
            assertEquals(0, fs.row("val2014/COCO_val2014_000000391895.jpg"));
            assertEquals(1, fs.row("000000000009.jpg"));
            assertEquals(0, fs.row("val2017/000000391895.jpg"));
            assertEquals(List.of("val2017/000000391895.jpg", "train2017/000000000009.jpg"), fs.names());
        }
    }
}
