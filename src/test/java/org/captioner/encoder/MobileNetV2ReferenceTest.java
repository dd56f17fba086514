package org.captioner.encoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.image.ImageDecoder;
import org.captioner.image.ImagePreprocessor;
import org.captioner.testing.SharedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Path;
import java.util.List;

import static org.captioner.encoder.SqueezeNetReferenceTest.cosine;
import static org.captioner.encoder.SqueezeNetReferenceTest.toArray;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MobileNetV2 encoder (TFLite reader, dequantization, graph built from the file, TF "SAME" padding) and its
 * preprocessing, checked against features computed by an independent (non-DL4J) implementation from the same
 * file: shared/reference/mobilenetv2_reference.json.
 */
class MobileNetV2ReferenceTest {
    static ImageEncoder encoder;
    static JsonNode reference;

    @BeforeAll
    static void load() throws Exception {
        Path weights = SharedData.mobilenetWeights();
        reference = new ObjectMapper().readTree(SharedData.require("reference/mobilenetv2_reference.json").toFile());
        encoder = Encoders.load(EncoderType.MOBILENETV2, weights, "test");
    }

    @Test
    void reproducesIndependentFeaturesWithinStatedTolerance() throws Exception {
        Path images = SharedData.flickrImages();
        ImageDecoder decoder = new ImageDecoder();
        ImagePreprocessor pre = EncoderType.MOBILENETV2.preprocessor();
        JsonNode items = reference.get("items");
        assertTrue(items.size() >= 10, "reference lists images");
        float[] batch = new float[items.size() * pre.length()];
        for (int i = 0; i < items.size(); i++) {
            pre.toChw(decoder.decode(images.resolve(items.get(i).get("image").asText())), batch, i * pre.length());
        }
        EncodedBatch out = encoder.encode(Nd4j.create(batch, new long[] {items.size(), 3, 224, 224}, 'c'));
        assertEquals(List.of((long) items.size(), 1280L), List.of(out.vectors().shape()[0], out.vectors().shape()[1]));
        assertEquals(List.of((long) items.size(), 49L, 1280L),
                List.of(out.grid().shape()[0], out.grid().shape()[1], out.grid().shape()[2]));

        double worstVector = 1, worstCell = 1;
        int cellsChecked = 0;
        for (int i = 0; i < items.size(); i++) {
            JsonNode item = items.get(i);
            worstVector = Math.min(worstVector, cosine(toArray(item.get("vector")), out.vectors().getRow(i).toDoubleVector()));
            JsonNode cells = item.has("cells") ? item.get("cells") : item.get("grid_cells");
            for (var it = cells.fields(); it.hasNext(); ) {
                var cell = it.next();
                int idx = Integer.parseInt(cell.getKey());
                double cc = cosine(toArray(cell.getValue()), out.grid().get(NDArrayIndex.point(i), NDArrayIndex.point(idx),
                        NDArrayIndex.all()).toDoubleVector());
                worstCell = Math.min(worstCell, cc);
                cellsChecked++;
            }
        }
        System.out.printf("mobilenetv2 reference: worst vector cosine %.7f, worst cell cosine %.7f over %d cells of %d images%n",
                worstVector, worstCell, cellsChecked, items.size());
        assertTrue(cellsChecked > 0, "reference lists grid cells");
        assertTrue(worstVector >= 0.9999, "vector cosine " + worstVector);
        assertTrue(worstCell >= 0.999, "cell cosine " + worstCell);
    }
}
