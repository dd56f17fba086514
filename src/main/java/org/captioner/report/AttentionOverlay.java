package org.captioner.report;

import java.awt.image.BufferedImage;

/**
 * Draws one step's attention over an image, as in the Show, Attend and Tell figures: the weights of the
 * side x side grid cells are upsampled bilinearly to the image, scaled so the most attended cell is 1, and
 * each pixel keeps that fraction of its brightness (plus a floor so the scene stays readable).
 */
public final class AttentionOverlay {
    static final double FLOOR = 0.15;

    private AttentionOverlay() {
    }

    /** @param weights row-major cell weights (row 0 at the top), length side*side */
    public static BufferedImage render(BufferedImage image, float[] weights) {
        int side = (int) Math.round(Math.sqrt(weights.length));
        if (side * side != weights.length) throw new IllegalArgumentException("attention map of " + weights.length + " cells is not square");
        float max = 0;
        for (float w : weights) max = Math.max(max, w);
        int iw = image.getWidth(), ih = image.getHeight();
        BufferedImage out = new BufferedImage(iw, ih, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < ih; y++) {
            // cell centres sit at (k + 0.5) / side of the image: sample between the two nearest
            double gy = Math.min(Math.max((y + 0.5) * side / ih - 0.5, 0), side - 1);
            int y0 = (int) gy, y1 = Math.min(y0 + 1, side - 1);
            double fy = gy - y0;
            for (int x = 0; x < iw; x++) {
                double gx = Math.min(Math.max((x + 0.5) * side / iw - 0.5, 0), side - 1);
                int x0 = (int) gx, x1 = Math.min(x0 + 1, side - 1);
                double fx = gx - x0;
                double a = (1 - fy) * ((1 - fx) * weights[y0 * side + x0] + fx * weights[y0 * side + x1])
                        + fy * ((1 - fx) * weights[y1 * side + x0] + fx * weights[y1 * side + x1]);
                double k = FLOOR + (1 - FLOOR) * (max > 0 ? a / max : 0);
                int rgb = image.getRGB(x, y);
                int r = (int) (((rgb >> 16) & 255) * k), g = (int) (((rgb >> 8) & 255) * k), b = (int) ((rgb & 255) * k);
                out.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return out;
    }
}
