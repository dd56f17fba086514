package org.captioner.image;

/** An image whose header declares more pixels than allowed; thrown before its pixels are decoded. */
public final class ImageTooLargeException extends ImageLoadException {
    public ImageTooLargeException(int width, int height, long maxPixels) {
        super("image declares " + width + "x" + height + " = " + ((long) width * height) + " pixels, more than the limit of " + maxPixels);
    }
}
