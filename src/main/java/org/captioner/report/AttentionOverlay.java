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

    /** Colour of the outline {@link #render(BufferedImage, float[], int)} draws round a cell: yellow. */
    static final int MARK = 0xFFD700;

    /** @param weights row-major cell weights (row 0 at the top), length side*side */
    public static BufferedImage render(BufferedImage image, float[] weights) {
        return render(image, weights, -1);
    }

    /**
     * The same, with a one-pixel outline round cell {@code markCell} (row-major; -1 for none): for a hard-attention
     * model, the cell whose features the word was predicted from.
     */
    public static BufferedImage render(BufferedImage image, float[] weights, int markCell) {
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
        if (markCell >= 0) {
            if (markCell >= weights.length) throw new IllegalArgumentException("cell " + markCell + " of " + weights.length);
            int cy = markCell / side, cx = markCell % side;
            int x0 = cx * iw / side, x1 = Math.max(x0, (cx + 1) * iw / side - 1), y0 = cy * ih / side, y1 = Math.max(y0, (cy + 1) * ih / side - 1);
            for (int x = x0; x <= x1; x++) {
                out.setRGB(x, y0, MARK);
                out.setRGB(x, y1, MARK);
            }
            for (int y = y0; y <= y1; y++) {
                out.setRGB(x0, y, MARK);
                out.setRGB(x1, y, MARK);
            }
        }
        return out;
    }
}
