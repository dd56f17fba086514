package org.captioner.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class ImageDecoderTest {
    @TempDir
    Path dir;
    final ImageDecoder decoder = new ImageDecoder();

    /** Left half red, right half blue: lets orientation and colour be checked. */
    static BufferedImage halves(int w, int h, int type) {
        BufferedImage img = new BufferedImage(w, h, type);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.RED);
        g.fillRect(0, 0, w / 2, h);
        g.setColor(Color.BLUE);
        g.fillRect(w / 2, 0, w - w / 2, h);
        g.dispose();
        return img;
    }

    Path write(BufferedImage img, String format, String name) throws IOException {
        Path p = dir.resolve(name);
        assertTrue(ImageIO.write(img, format, p.toFile()), "no writer for " + format);
        return p;
    }

    static void assertColour(BufferedImage img, int x, int y, int r, int g, int b, int tol) {
        int p = img.getRGB(x, y);
        int[] got = {(p >> 16) & 255, (p >> 8) & 255, p & 255};
        assertTrue(Math.abs(got[0] - r) <= tol && Math.abs(got[1] - g) <= tol && Math.abs(got[2] - b) <= tol,
                "pixel (" + x + "," + y + ") is " + Arrays.toString(got) + ", expected ~[" + r + "," + g + "," + b + "]");
    }

    @Test
    void readsCommonFormats() throws Exception {
        for (String fmt : new String[] {"jpg", "png", "bmp", "gif"}) {
            BufferedImage img = decoder.decode(write(halves(64, 48, BufferedImage.TYPE_INT_RGB), fmt, "a." + fmt));
            assertEquals(64, img.getWidth(), fmt);
            assertEquals(48, img.getHeight(), fmt);
            assertEquals(BufferedImage.TYPE_INT_RGB, img.getType());
            assertColour(img, 8, 24, 255, 0, 0, 40);
            assertColour(img, 56, 24, 0, 0, 255, 40);
        }
    }

    @Test
    void grayscaleBecomesThreeEqualChannels() throws Exception {
        BufferedImage g = new BufferedImage(20, 20, BufferedImage.TYPE_BYTE_GRAY);
        g.getRaster().setSample(5, 5, 0, 200);
        BufferedImage img = decoder.decode(write(g, "png", "g.png"));
        int p = img.getRGB(5, 5);
        assertEquals((p >> 16) & 255, p & 255);
        assertEquals((p >> 8) & 255, p & 255);
        assertTrue((p & 255) > 150);
    }

    @Test
    void transparentPixelsAreCompositedOnWhite() throws Exception {
        BufferedImage a = new BufferedImage(10, 10, BufferedImage.TYPE_INT_ARGB); // fully transparent
        a.setRGB(0, 0, 0xFF000000); // one opaque black pixel
        BufferedImage img = decoder.decode(write(a, "png", "alpha.png"));
        assertColour(img, 5, 5, 255, 255, 255, 0);
        assertColour(img, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void sixteenBitPng() throws Exception {
        BufferedImage img16 = new BufferedImage(8, 8, BufferedImage.TYPE_USHORT_GRAY);
        img16.getRaster().setSample(1, 1, 0, 65535);
        BufferedImage img = decoder.decode(write(img16, "png", "16.png"));
        assertColour(img, 1, 1, 255, 255, 255, 1);
        assertColour(img, 2, 2, 0, 0, 0, 1);
    }

    @Test
    void gifFirstFrame() throws Exception {
        Path p = dir.resolve("anim.gif");
        ImageWriter w = ImageIO.getImageWritersByFormatName("gif").next();
        try (var out = ImageIO.createImageOutputStream(p.toFile())) {
            w.setOutput(out);
            w.prepareWriteSequence(null);
            BufferedImage red = new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB);
            red.getGraphics().setColor(Color.RED);
            red.getGraphics().fillRect(0, 0, 10, 10);
            Graphics2D g = red.createGraphics();
            g.setColor(Color.RED);
            g.fillRect(0, 0, 10, 10);
            g.dispose();
            BufferedImage green = new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB);
            g = green.createGraphics();
            g.setColor(Color.GREEN);
            g.fillRect(0, 0, 10, 10);
            g.dispose();
            w.writeToSequence(new IIOImage(red, null, null), null);
            w.writeToSequence(new IIOImage(green, null, null), null);
            w.endWriteSequence();
        }
        assertColour(decoder.decode(p), 5, 5, 255, 0, 0, 10);
    }

    @Test
    void cmykJpeg() throws Exception {
        // An Adobe CMYK JPEG (APP14 marker, transform 0, inverted ink values as Photoshop writes them) of pure cyan.
        // The JDK's own reader rejects these; the TwelveMonkeys plugin converts them.
        WritableRaster r = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, 16, 16, 4, null);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) r.setPixel(x, y, new int[] {0, 255, 255, 255});
        Path p = dir.resolve("cmyk.jpg");
        ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        javax.imageio.ImageWriteParam param = w.getDefaultWriteParam();
        javax.imageio.metadata.IIOMetadata md = w.getDefaultImageMetadata(
                new javax.imageio.ImageTypeSpecifier(new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB)), param);
        String fmt = "javax_imageio_jpeg_image_1.0";
        javax.imageio.metadata.IIOMetadataNode root = (javax.imageio.metadata.IIOMetadataNode) md.getAsTree(fmt);
        javax.imageio.metadata.IIOMetadataNode jpegVariety = (javax.imageio.metadata.IIOMetadataNode) root.getElementsByTagName("JPEGvariety").item(0);
        while (jpegVariety.hasChildNodes()) jpegVariety.removeChild(jpegVariety.getFirstChild()); // no JFIF
        javax.imageio.metadata.IIOMetadataNode markers = (javax.imageio.metadata.IIOMetadataNode) root.getElementsByTagName("markerSequence").item(0);
        javax.imageio.metadata.IIOMetadataNode adobe = new javax.imageio.metadata.IIOMetadataNode("app14Adobe");
        adobe.setAttribute("transform", "0");
        markers.insertBefore(adobe, markers.getFirstChild());
        javax.imageio.metadata.IIOMetadataNode sof = (javax.imageio.metadata.IIOMetadataNode) root.getElementsByTagName("sof").item(0);
        sof.setAttribute("numFrameComponents", "4");
        while (sof.hasChildNodes()) sof.removeChild(sof.getFirstChild());
        for (int c = 1; c <= 4; c++) {
            javax.imageio.metadata.IIOMetadataNode comp = new javax.imageio.metadata.IIOMetadataNode("componentSpec");
            comp.setAttribute("componentId", Integer.toString(c));
            comp.setAttribute("HsamplingFactor", "1");
            comp.setAttribute("VsamplingFactor", "1");
            comp.setAttribute("QtableSelector", "0");
            sof.appendChild(comp);
        }
        javax.imageio.metadata.IIOMetadataNode sos = (javax.imageio.metadata.IIOMetadataNode) root.getElementsByTagName("sos").item(0);
        sos.setAttribute("numScanComponents", "4");
        while (sos.hasChildNodes()) sos.removeChild(sos.getFirstChild());
        for (int c = 1; c <= 4; c++) {
            javax.imageio.metadata.IIOMetadataNode comp = new javax.imageio.metadata.IIOMetadataNode("scanComponentSpec");
            comp.setAttribute("componentSelector", Integer.toString(c));
            comp.setAttribute("dcHuffTable", "0");
            comp.setAttribute("acHuffTable", "0");
            sos.appendChild(comp);
        }
        md.setFromTree(fmt, root);
        try (var out = ImageIO.createImageOutputStream(p.toFile())) {
            w.setOutput(out);
            w.write(null, new IIOImage(r, null, md), param);
        }
        BufferedImage img = decoder.decode(p);
        assertEquals(16, img.getWidth());
        int px = img.getRGB(8, 8);
        int red = (px >> 16) & 255, green = (px >> 8) & 255, blue = px & 255;
        assertTrue(red < 80 && green > 120 && blue > 180, "cyan decoded as " + red + "," + green + "," + blue);
    }

    @Test
    void exifOrientationIsApplied() throws Exception {
        // A JPEG stored landscape (red left, blue right) with EXIF orientation 6 (display rotated 90 deg clockwise).
        byte[] jpeg = jpegBytes(halves(40, 20, BufferedImage.TYPE_INT_RGB));
        byte[] rotated = withExifOrientation(jpeg, 6);
        assertEquals(6, ImageDecoder.exifOrientation(rotated));
        BufferedImage img = decoder.decode(rotated);
        assertEquals(20, img.getWidth());
        assertEquals(40, img.getHeight());
        // After a clockwise turn the stored left (red) is on top, the right (blue) at the bottom.
        assertColour(img, 10, 5, 255, 0, 0, 60);
        assertColour(img, 10, 35, 0, 0, 255, 60);
        BufferedImage upsideDown = decoder.decode(withExifOrientation(jpeg, 3));
        assertColour(upsideDown, 5, 10, 0, 0, 255, 60);
    }

    @Test
    void largeImagesAreSubsampledWhileDecoding() throws Exception {
        BufferedImage big = new BufferedImage(9000, 6000, BufferedImage.TYPE_BYTE_GRAY);
        Path p = write(big, "png", "big.png");
        BufferedImage img = new ImageDecoder(1024).decode(p);
        assertTrue(img.getWidth() <= 1024 && img.getHeight() <= 1024, img.getWidth() + "x" + img.getHeight());
        assertEquals(1.5, img.getWidth() / (double) img.getHeight(), 0.01);
    }

    @Test
    void badFilesGiveReasons() throws Exception {
        Path empty = Files.write(dir.resolve("empty.jpg"), new byte[0]);
        assertEquals("empty file (0 bytes)", assertThrows(ImageLoadException.class, () -> decoder.decode(empty)).getMessage());

        Path text = Files.writeString(dir.resolve("notes.jpg"), "this is not an image\n");
        assertTrue(assertThrows(ImageLoadException.class, () -> decoder.decode(text)).getMessage().contains("not a recognised image format"));

        byte[] jpeg = jpegBytes(halves(200, 200, BufferedImage.TYPE_INT_RGB));
        Path truncated = Files.write(dir.resolve("cut.jpg"), Arrays.copyOf(jpeg, jpeg.length / 2));
        String m = assertThrows(ImageLoadException.class, () -> decoder.decode(truncated)).getMessage();
        assertTrue(m.contains("truncated") || m.contains("corrupt"), m);

        assertTrue(assertThrows(ImageLoadException.class, () -> decoder.decode(dir.resolve("missing.png"))).getMessage().contains("not found"));
    }

    @Test
    void unreadableFileGivesPermissionReason() throws Exception {
        Path p = write(halves(8, 8, BufferedImage.TYPE_INT_RGB), "png", "locked.png");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("---------"));
        assumeFalse(Files.isReadable(p), "skipped: running as root, permissions do not stop reads");
        assertTrue(assertThrows(ImageLoadException.class, () -> decoder.decode(p)).getMessage().contains("permission denied"));
    }

    static byte[] jpegBytes(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return out.toByteArray();
    }

    /** Inserts an APP1 Exif segment holding only an orientation tag right after the SOI marker. */
    static byte[] withExifOrientation(byte[] jpeg, int orientation) {
        byte[] tiff = {
                'M', 'M', 0, 42, 0, 0, 0, 8,           // big-endian TIFF header, IFD0 at offset 8
                0, 1,                                  // one entry
                0x01, 0x12, 0, 3, 0, 0, 0, 1,          // tag 0x0112 orientation, SHORT, count 1
                0, (byte) orientation, 0, 0,           // value
                0, 0, 0, 0};                           // no next IFD
        byte[] exifHeader = {'E', 'x', 'i', 'f', 0, 0};
        int len = 2 + exifHeader.length + tiff.length;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, 2); // SOI
        out.write(0xFF);
        out.write(0xE1);
        out.write(len >> 8);
        out.write(len & 255);
        out.writeBytes(exifHeader);
        out.writeBytes(tiff);
        out.write(jpeg, 2, jpeg.length - 2);
        return out.toByteArray();
    }
}
