package org.captioner.encoder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class EncodersTest {
    @TempDir
    Path dir;

    @Test
    void squeezenetShapes() {
        EncodedBatch b = Encoders.random(EncoderType.SQUEEZENET).encode(Nd4j.rand(2, 3, 224, 224));
        assertArrayEquals(new long[] {2, 512}, b.vectors().shape());
        assertArrayEquals(new long[] {2, 169, 512}, b.grid().shape());
        // The vector is the mean of the grid cells.
        assertEquals(b.grid().get(org.nd4j.linalg.indexing.NDArrayIndex.point(1), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.all()).mean(0).getDouble(7), b.vectors().getDouble(1, 7), 1e-4);
    }

    @Test
    void vgg16ShapesFc2AndBlock5Conv3() {
        ImageEncoder enc = Encoders.random(EncoderType.VGG16);
        EncodedBatch b = enc.encode(Nd4j.rand(1, 3, 224, 224));
        assertArrayEquals(new long[] {1, 4096}, b.vectors().shape());
        assertArrayEquals(new long[] {1, 196, 512}, b.grid().shape());
        // Zoo vertex names: "16" must be block5_conv3 and "19" fc2.
        var conf = ((GraphEncoder) enc).graph().getConfiguration().getVertices();
        assertTrue(conf.get(Vgg16Graph.GRID_VERTEX).toString().contains("ConvolutionLayer"));
        assertTrue(conf.get(Vgg16Graph.VECTOR_VERTEX).toString().contains("DenseLayer"));
    }

    @Test
    void vgg16NotopWeightsAreRejectedNamingFc1() throws Exception {
        // A Keras 2 VGG16 file with the 13 convolution layers only (the "_notop" layout).
        Path h5 = dir.resolve("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5");
        Vgg16Fixture.writeKeras2(h5, false);
        IOException e = assertThrows(IOException.class, () -> Encoders.load(EncoderType.VGG16, h5, "test"));
        assertTrue(e.getMessage().contains("'fc1' is missing") && e.getMessage().contains("_notop"), e.getMessage());
    }

    @Test
    void wrongFileIsAClearError() throws Exception {
        Path txt = Files.writeString(dir.resolve("weights.h5"), "not weights");
        IOException e = assertThrows(IOException.class, () -> Encoders.load(EncoderType.SQUEEZENET, txt, "test"));
        assertTrue(e.getMessage().contains("not a weights file Captioner reads (a Keras HDF5, a DL4J model zip or a TensorFlow Lite model)"), e.getMessage());
    }

    @Test
    void tfliteFileForTheWrongEncoderOrTruncatedIsAClearError() throws Exception {
        Path tflite = org.captioner.testing.SharedData.mobilenetWeights();
        IOException wrong = assertThrows(IOException.class, () -> Encoders.load(EncoderType.SQUEEZENET, tflite, "test"));
        assertTrue(wrong.getMessage().contains("only the mobilenetv2 encoder reads that format"), wrong.getMessage());
        byte[] all = Files.readAllBytes(tflite);
        Path cut = Files.write(dir.resolve("cut.tflite"), java.util.Arrays.copyOf(all, all.length / 3));
        IOException torn = assertThrows(IOException.class, () -> Encoders.load(EncoderType.MOBILENETV2, cut, "test"));
        assertTrue(torn.getMessage().contains(cut.toString()), torn.getMessage());
        Path h5 = org.captioner.testing.SharedData.squeezenetWeights();
        IOException keras = assertThrows(IOException.class, () -> Encoders.load(EncoderType.MOBILENETV2, h5, "test"));
        assertTrue(keras.getMessage().contains("reads the official .tflite file"), keras.getMessage());
    }
}
