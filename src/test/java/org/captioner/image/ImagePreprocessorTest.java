package org.captioner.image;

import org.junit.jupiter.api.Test;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ImagePreprocessorTest {
    @Test
    void bgrPlanesMeanSubtractedNoScaling() {
        BufferedImage img = new BufferedImage(50, 30, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(200, 100, 10)); // R, G, B
        g.fillRect(0, 0, 50, 30);
        g.dispose();
        ImagePreprocessor p = new ImagePreprocessor(224, ImagePreprocessor.Normalisation.CAFFE_BGR);
        float[] x = p.toChw(img);
        int plane = 224 * 224;
        assertEquals(3 * plane, x.length);
        assertEquals(10 - 103.939f, x[0], 1e-4);           // plane 0 is blue
        assertEquals(100 - 116.779f, x[plane + 777], 1e-4); // plane 1 is green
        assertEquals(200 - 123.68f, x[2 * plane + plane - 1], 1e-4); // plane 2 is red
    }

    @Test
    void rowMajorTopRowFirst() {
        BufferedImage img = new BufferedImage(224, 224, BufferedImage.TYPE_INT_RGB);
        img.setRGB(5, 0, 0xFFFFFF);   // top row, column 5
        img.setRGB(0, 3, 0x00FF00);   // row 3, column 0
        float[] x = new ImagePreprocessor(224, ImagePreprocessor.Normalisation.CAFFE_BGR).toChw(img);
        assertEquals(255 - 103.939f, x[5], 1e-4);
        assertEquals(255 - 116.779f, x[224 * 224 + 3 * 224], 1e-4);
        assertEquals(-103.939f, x[3 * 224], 1e-4);
    }

    @Test
    void tfModeIsRgbPlanesScaledToMinusOneOne() {
        BufferedImage img = new BufferedImage(224, 224, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(255, 0, 51)); // R, G, B
        g.fillRect(0, 0, 224, 224);
        g.dispose();
        float[] x = org.captioner.encoder.EncoderType.MOBILENETV2.preprocessor().toChw(img);
        int plane = 224 * 224;
        assertEquals(1f, x[0], 1e-6);                       // plane 0 is red: 255 / 127.5 - 1
        assertEquals(-1f, x[plane + 5], 1e-6);              // plane 1 is green: 0 -> -1
        assertEquals(51 / 127.5f - 1, x[2 * plane + 9], 1e-6); // plane 2 is blue
    }
}
