package org.captioner.encoder;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Turns preprocessed images into an image vector and a feature grid. Preprocessing (decode, resize,
 * caffe normalisation) lives in {@code org.captioner.image}; an encoder only sees tensors.
 */
public interface ImageEncoder {
    EncoderType type();

    /** Where the weights came from (file path or zoo URL), for provenance. */
    String weightsSource();

    /** SHA-256 of the weights file these features were computed with (models record it). */
    String weightsSha256();

    /**
     * @param images [B, 3, H, W] float, as {@code type().preprocessor()} makes them (see {@link org.captioner.image.ImagePreprocessor})
     */
    EncodedBatch encode(INDArray images);

    /** Frees the network's native memory; the encoder is unusable afterwards. */
    default void close() {
    }
}
