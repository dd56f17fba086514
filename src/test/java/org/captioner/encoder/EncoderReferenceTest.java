package org.captioner.encoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.image.ImageDecoder;
import org.captioner.image.ImagePreprocessor;
import org.captioner.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each encoder with real ImageNet weights, its weight import and its preprocessing, checked against features
 * computed by an independent (non-DL4J) implementation from the same weights file (shared/reference/*.json):
 * SqueezeNet's fire9 (Keras HDF5 import, caffe preprocessing) and MobileNetV2's Conv_1 (TFLite reader,
 * dequantization, graph built from the file, TF "SAME" padding, channels-last, tf preprocessing).
 */
class EncoderReferenceTest {
    @Test
    void squeezenetReproducesIndependentFeatures() throws Exception {
        check(EncoderType.SQUEEZENET, SharedData.squeezenetWeights(), "reference/squeezenet_reference.json");
    }

    @Test
    void mobilenetv2ReproducesIndependentFeatures() throws Exception {
        check(EncoderType.MOBILENETV2, SharedData.mobilenetWeights(), "reference/mobilenetv2_reference.json");
    }

    /** Vector cosine >= 0.9999 for every image and >= 0.999 for every listed grid cell, as the reference files state. */
    static void check(EncoderType type, Path weights, String referenceFile) throws Exception {
        JsonNode items = new ObjectMapper().readTree(SharedData.require(referenceFile).toFile()).get("items");
        ImageEncoder encoder = Encoders.load(type, weights, "test");
        Path images = SharedData.flickrImages();
        ImageDecoder decoder = new ImageDecoder();
        ImagePreprocessor pre = type.preprocessor();
        int n = items.size(), size = type.inputSize;
        assertEquals(12, n);
        float[] batch = new float[n * pre.length()];
        for (int i = 0; i < n; i++) pre.toChw(decoder.decode(images.resolve(items.get(i).get("image").asText())), batch, i * pre.length());
        EncodedBatch out = encoder.encode(Nd4j.create(batch, new long[] {n, 3, size, size}, 'c'));
        assertEquals(List.of((long) n, (long) type.vectorSize), List.of(out.vectors().shape()[0], out.vectors().shape()[1]));
        assertEquals(List.of((long) n, (long) type.gridCells(), (long) type.gridChannels),
                List.of(out.grid().shape()[0], out.grid().shape()[1], out.grid().shape()[2]));

        double worstVector = 1, worstCell = 1;
        int cellsChecked = 0;
        for (int i = 0; i < n; i++) {
            JsonNode item = items.get(i);
            worstVector = Math.min(worstVector, cosine(toArray(item.get("vector")), out.vectors().getRow(i).toDoubleVector()));
            JsonNode cells = item.has("cells") ? item.get("cells") : item.get("grid_cells");
            for (var it = cells.fields(); it.hasNext(); ) {
                var cell = it.next();
                int idx = Integer.parseInt(cell.getKey());
                double cc = cosine(toArray(cell.getValue()),
                        out.grid().get(NDArrayIndex.point(i), NDArrayIndex.point(idx), NDArrayIndex.all()).toDoubleVector());
                worstCell = Math.min(worstCell, cc);
                cellsChecked++;
            }
        }
        System.out.printf("%s reference: worst vector cosine %.7f, worst cell cosine %.7f over %d cells of %d images%n",
                type, worstVector, worstCell, cellsChecked, n);
        assertTrue(cellsChecked > 0, "reference lists grid cells");
        assertTrue(worstVector >= 0.9999, "vector cosine " + worstVector);
        assertTrue(worstCell >= 0.999, "cell cosine " + worstCell);
    }

    static double[] toArray(JsonNode arr) {
        double[] d = new double[arr.size()];
        for (int i = 0; i < d.length; i++) d[i] = arr.get(i).asDouble();
        return d;
    }

    static double cosine(double[] a, double[] b) {
        assertEquals(a.length, b.length);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
