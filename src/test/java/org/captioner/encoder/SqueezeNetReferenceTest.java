package org.captioner.encoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.image.ImagePreprocessor;
import org.captioner.image.ImageDecoder;
import org.captioner.testing.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SqueezeNet encoder, its Keras weight import and its preprocessing, checked against fire9 features
 * computed by an independent (non-DL4J) implementation: shared/reference/squeezenet_reference.json.
 */
class SqueezeNetReferenceTest {
    static ImageEncoder encoder;
    static JsonNode reference;

    @BeforeAll
    static void load() throws Exception {
        Path weights = SharedData.squeezenetWeights();
        reference = new ObjectMapper().readTree(SharedData.require("reference/squeezenet_reference.json").toFile());
        encoder = Encoders.load(EncoderType.SQUEEZENET, weights, "test");
    }

    @Test
    void reproducesIndependentFeaturesWithinStatedTolerance() throws Exception {
        Path images = SharedData.flickrImages();
        ImageDecoder decoder = new ImageDecoder();
        ImagePreprocessor pre = new ImagePreprocessor(224, ImagePreprocessor.Normalisation.CAFFE_BGR);
        JsonNode items = reference.get("items");
        assertEquals(12, items.size());
        float[] batch = new float[items.size() * pre.length()];
        for (int i = 0; i < items.size(); i++) {
            pre.toChw(decoder.decode(images.resolve(items.get(i).get("image").asText())), batch, i * pre.length());
        }
        EncodedBatch out = encoder.encode(Nd4j.create(batch, new long[] {items.size(), 3, 224, 224}, 'c'));
        assertEquals(List.of(12L, 512L), List.of(out.vectors().shape()[0], out.vectors().shape()[1]));
        assertEquals(List.of(12L, 169L, 512L), List.of(out.grid().shape()[0], out.grid().shape()[1], out.grid().shape()[2]));

        double worstVector = 1, worstCell = 1;
        int cellsChecked = 0;
        for (int i = 0; i < items.size(); i++) {
            JsonNode item = items.get(i);
            double cv = cosine(toArray(item.get("vector")), out.vectors().getRow(i).toDoubleVector());
            worstVector = Math.min(worstVector, cv);
            JsonNode cells = item.has("cells") ? item.get("cells") : item.get("grid_cells");
            for (var it = cells.fields(); it.hasNext(); ) {
                var cell = it.next();
                int idx = Integer.parseInt(cell.getKey());
                double cc = cosine(toArray(cell.getValue()), out.grid().get(
                        org.nd4j.linalg.indexing.NDArrayIndex.point(i), org.nd4j.linalg.indexing.NDArrayIndex.point(idx),
                        org.nd4j.linalg.indexing.NDArrayIndex.all()).toDoubleVector());
                worstCell = Math.min(worstCell, cc);
                cellsChecked++;
            }
        }
        System.out.printf("squeezenet reference: worst vector cosine %.7f, worst cell cosine %.7f over %d cells%n",
                worstVector, worstCell, cellsChecked);
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
