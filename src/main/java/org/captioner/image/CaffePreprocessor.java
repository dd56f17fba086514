package org.captioner.image;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;

/**
 * "Caffe" preprocessing, what the ImageNet VGG16 and SqueezeNet weights were trained with:
 * resize to size x size, BGR channel order, subtract the per-channel ImageNet means, no scaling,
 * planar (CHW) layout.
 */
public final class CaffePreprocessor {
    public static final float MEAN_B = 103.939f, MEAN_G = 116.779f, MEAN_R = 123.68f;

    private final int size;

    public CaffePreprocessor(int size) {
        if (size < 1) throw new IllegalArgumentException("size must be positive");
        this.size = size;
    }

    public int size() {
        return size;
    }

    /** Number of floats one image occupies: 3 * size * size. */
    public int length() {
        return 3 * size * size;
    }

    /** Writes one image as [3, size, size] (B, G, R planes) into {@code dest} starting at {@code offset}. */
    public void toBgrChw(BufferedImage rgb, float[] dest, int offset) {
        BufferedImage img = resize(rgb, size);
        int[] px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
        int plane = size * size;
        for (int i = 0; i < plane; i++) {
            int p = px[i];
            dest[offset + i] = (p & 0xFF) - MEAN_B;                         // B plane
            dest[offset + plane + i] = ((p >> 8) & 0xFF) - MEAN_G;          // G plane
            dest[offset + 2 * plane + i] = ((p >> 16) & 0xFF) - MEAN_R;     // R plane
        }
    }

    public float[] toBgrChw(BufferedImage rgb) {
        float[] out = new float[length()];
        toBgrChw(rgb, out, 0);
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
