package org.captioner.image;

import java.io.IOException;

/** A file that could not be turned into pixels; the message is the reason shown to the user. */
public class ImageLoadException extends IOException {
    public ImageLoadException(String message) {
        super(message);
    }

    public ImageLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
