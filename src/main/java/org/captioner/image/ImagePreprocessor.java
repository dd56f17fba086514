package org.captioner.image;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;

/**
 * Turns a decoded image into the planar (CHW) float tensor an encoder's weights expect: resize to
 * size x size, then one of the two normalisations ImageNet CNNs were trained with ({@link Normalisation}).
 * The encoder type chooses it ({@code EncoderType#preprocessor()}), so every front end (CLI, API, bench)
 * feeds each encoder what it was trained on.
 */
public final class ImagePreprocessor {
    public static final float MEAN_B = 103.939f, MEAN_G = 116.779f, MEAN_R = 123.68f;

    /** How pixel values are mapped. */
    public enum Normalisation {
        /** "caffe" (VGG16, SqueezeNet): BGR planes, ImageNet means subtracted, no scaling. */
        CAFFE_BGR,
        /** "tf"/inception (MobileNetV2): RGB planes, {@code x / 127.5 - 1}, values in [-1, 1]. */
        TF_RGB
    }

    private final int size;
    private final Normalisation normalisation;

    public ImagePreprocessor(int size, Normalisation normalisation) {
        if (size < 1) throw new IllegalArgumentException("size must be positive");
        this.size = size;
        this.normalisation = normalisation;
    }

    public int size() {
        return size;
    }

    public Normalisation normalisation() {
        return normalisation;
    }

    /** Number of floats one image occupies: 3 * size * size. */
    public int length() {
        return 3 * size * size;
    }

    /** Writes one image as [3, size, size] into {@code dest} starting at {@code offset}. */
    public void toChw(BufferedImage rgb, float[] dest, int offset) {
        BufferedImage img = resize(rgb, size);
        int[] px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
        int plane = size * size;
        if (normalisation == Normalisation.CAFFE_BGR) {
            for (int i = 0; i < plane; i++) {
                int p = px[i];
                dest[offset + i] = (p & 0xFF) - MEAN_B;                         // B plane
                dest[offset + plane + i] = ((p >> 8) & 0xFF) - MEAN_G;          // G plane
                dest[offset + 2 * plane + i] = ((p >> 16) & 0xFF) - MEAN_R;     // R plane
            }
        } else {
            for (int i = 0; i < plane; i++) {
                int p = px[i];
                dest[offset + i] = ((p >> 16) & 0xFF) / 127.5f - 1f;            // R plane
                dest[offset + plane + i] = ((p >> 8) & 0xFF) / 127.5f - 1f;     // G plane
                dest[offset + 2 * plane + i] = (p & 0xFF) / 127.5f - 1f;        // B plane
            }
        }
    }

    public float[] toChw(BufferedImage rgb) {
        float[] out = new float[length()];
        toChw(rgb, out, 0);
        return out;
    }

    /**
     * Resizes to exactly size x size (aspect ratio not kept, as the weights' training pipeline did).
     * Large reductions are done in halving steps with bilinear filtering, which avoids the aliasing of a
     * single bilinear step at a fraction of the cost of area averaging.
     */
    static BufferedImage resize(BufferedImage src, int size) {
        if (src.getWidth() == size && src.getHeight() == size && src.getType() == BufferedImage.TYPE_INT_RGB) {
            return src;
        }
        BufferedImage cur = src;
        int w = src.getWidth(), h = src.getHeight();
        while (w / 2 >= size && h / 2 >= size) {
            w /= 2;
            h /= 2;
            cur = draw(cur, w, h);
        }
        return draw(cur, size, size);
    }

    private static BufferedImage draw(BufferedImage src, int w, int h) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(src, 0, 0, w, h, null);
        } finally {
            g.dispose();
        }
        return out;
    }
}
