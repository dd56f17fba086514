package org.captioner.image;

import com.drew.imaging.ImageMetadataReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;

import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Decodes any common image file into an upright 8-bit RGB {@link BufferedImage}.
 *
 * <p>Handles JPEG (including CMYK/YCCK through the TwelveMonkeys plugin), PNG (8/16-bit, alpha),
 * BMP, GIF (first frame), grayscale, EXIF orientation. Transparent pixels are composited on
 * white, which is what a person sees when a transparent PNG is shown on a page. Very large images are
 * decoded with source subsampling so memory stays bounded by {@code maxDecodedSide}, not by the file.
 * Every failure is an {@link ImageLoadException} whose message says why, so a batch can record it
 * and go on.
 */
public final class ImageDecoder {
    /** Decoded images are subsampled at read time until both sides fit under this (pixels). */
    private final int maxDecodedSide;
    /** Images whose header declares more pixels than this are refused before any pixel is decoded. */
    private final long maxPixels;

    /** The default {@code maxDecodedSide}: larger images are subsampled while read (CNNs see 224 x 224). */
    public static final int DEFAULT_MAX_SIDE = 2048;

    public ImageDecoder() {
        this(DEFAULT_MAX_SIDE);
    }

    public ImageDecoder(int maxDecodedSide) {
        this(maxDecodedSide, Long.MAX_VALUE);
    }

    /**
     * {@code maxPixels}: a limit on width x height as the file's header declares them (a decompression bomb: a few
     * kilobytes of PNG that claim 100,000 x 100,000 pixels), checked before the pixels are read.
     */
    public ImageDecoder(int maxDecodedSide, long maxPixels) {
        if (maxDecodedSide < 16) throw new IllegalArgumentException("maxDecodedSide must be >= 16");
        if (maxPixels < 1) throw new IllegalArgumentException("maxPixels must be >= 1");
        this.maxDecodedSide = maxDecodedSide;
        this.maxPixels = maxPixels;
        ImageIO.setUseCache(false); // no temp files for streams
    }

    /** The reason given for a zero-length file (also by front ends that see such files without reading them). */
    public static final String EMPTY_FILE = "empty file (0 bytes)";

    /** Reads a file; the path is only used for messages and EXIF. */
    public BufferedImage decode(Path file) throws ImageLoadException {
        byte[] bytes;
        try {
            if (Files.isDirectory(file)) throw new ImageLoadException("is a directory, not an image");
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ImageLoadException("file not found");
        } catch (AccessDeniedException e) {
            throw new ImageLoadException("cannot read file: permission denied");
        } catch (ImageLoadException e) {
            throw e;
        } catch (IOException e) {
            throw new ImageLoadException("cannot read file: " + e.getMessage(), e);
        }
        return decode(bytes);
    }

    public BufferedImage decode(InputStream in) throws ImageLoadException {
        try {
            return decode(in.readAllBytes());
        } catch (IOException e) {
            if (e instanceof ImageLoadException ile) throw ile;
            throw new ImageLoadException("cannot read stream: " + e.getMessage(), e);
        }
    }

    public BufferedImage decode(byte[] bytes) throws ImageLoadException {
        if (bytes.length == 0) throw new ImageLoadException(EMPTY_FILE);
        BufferedImage raw = readFirstFrame(bytes);
        int orientation = exifOrientation(bytes);
        return toUprightRgb(raw, orientation);
    }

    private BufferedImage readFirstFrame(byte[] bytes) throws ImageLoadException {
        try (ImageInputStream iis = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
            if (!readers.hasNext()) {
                throw new ImageLoadException("not a recognised image format (expected JPEG, PNG, BMP or GIF)");
            }
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            try {
                reader.setInput(iis, true, true);
                reader.addIIOReadWarningListener((IIOReadWarningListener) (src, w) -> warnings.add(w));
                int w = reader.getWidth(0), h = reader.getHeight(0);
                if (w <= 0 || h <= 0) throw new ImageLoadException("image has no pixels (" + w + "x" + h + ")");
                if ((long) w * h > maxPixels) throw new ImageTooLargeException(w, h, maxPixels);
                ImageReadParam param = reader.getDefaultReadParam();
                int sub = 1;
                while (Math.max(w, h) / sub > maxDecodedSide) sub++;
                if (sub > 1) param.setSourceSubsampling(sub, sub, 0, 0);
                BufferedImage img = reader.read(0, param);
                for (String warning : warnings) {
                    String lw = warning.toLowerCase();
                    if (lw.contains("premature") || lw.contains("truncat") || lw.contains("corrupt")) {
                        throw new ImageLoadException("truncated or corrupt image data: " + warning);
                    }
                }
                return img;
            } finally {
                reader.dispose();
            }
        } catch (ImageLoadException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new ImageLoadException("corrupt or truncated image: " + msg, e);
        } catch (OutOfMemoryError e) {
            throw new ImageLoadException("image too large to decode", e);
        }
    }

    /** EXIF orientation tag (1..8), 1 when absent or unreadable: a missing tag means "as stored". */
    static int exifOrientation(byte[] bytes) {
        try {
            Metadata md = ImageMetadataReader.readMetadata(new ByteArrayInputStream(bytes));
            ExifIFD0Directory dir = md.getFirstDirectoryOfType(ExifIFD0Directory.class);
            if (dir != null && dir.containsTag(ExifIFD0Directory.TAG_ORIENTATION)) {
                int o = dir.getInt(ExifIFD0Directory.TAG_ORIENTATION);
                return (o >= 1 && o <= 8) ? o : 1;
            }
        } catch (Exception ignored) {
            // Metadata is optional; pixels were already read successfully.
        }
        return 1;
    }

    /** Any BufferedImage as upright 8-bit RGB (alpha composited on white), as decoded files are. */
    public static BufferedImage toRgb(BufferedImage img) {
        return img.getType() == BufferedImage.TYPE_INT_RGB ? img : toUprightRgb(img, 1);
    }

    /** Draws into a fresh TYPE_INT_RGB image (any colour model, alpha composited on white), then applies EXIF orientation. */
    static BufferedImage toUprightRgb(BufferedImage src, int orientation) {
        int w = src.getWidth(), h = src.getHeight();
        BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = rgb.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            g.drawImage(src, 0, 0, null);
        } finally {
            g.dispose();
        }
        if (orientation == 1) return rgb;
        boolean swap = orientation >= 5; // 5..8 transpose width and height
        BufferedImage out = new BufferedImage(swap ? h : w, swap ? w : h, BufferedImage.TYPE_INT_RGB);
        int[] in = ((DataBufferInt) rgb.getRaster().getDataBuffer()).getData();
        int[] dst = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
        int ow = out.getWidth();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int dx, dy; // where stored pixel (x, y) is displayed
                switch (orientation) {
                    case 2 -> { dx = w - 1 - x; dy = y; }         // mirrored horizontally
                    case 3 -> { dx = w - 1 - x; dy = h - 1 - y; } // rotated 180
                    case 4 -> { dx = x; dy = h - 1 - y; }         // mirrored vertically
                    case 5 -> { dx = y; dy = x; }                 // transposed
                    case 6 -> { dx = h - 1 - y; dy = x; }         // needs 90 degrees clockwise
                    case 7 -> { dx = h - 1 - y; dy = w - 1 - x; } // transverse
                    default -> { dx = y; dy = w - 1 - x; }        // 8: needs 90 degrees counter-clockwise
                }
                dst[dy * ow + dx] = in[y * w + x];
            }
        }
        return out;
    }
}
