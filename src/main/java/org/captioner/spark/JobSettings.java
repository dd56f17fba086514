package org.captioner.spark;

import java.io.Serializable;

/**
 * What every task needs, sent from the driver with the task (small: names, not files). The model folder and the
 * encoder weights travel as Spark files ({@code SparkContext.addArchive/addFile}); tasks find them by name.
 *
 * @param modelArchive  name of the model archive shipped with {@code addArchive} (null for the features job)
 * @param weightsFile   name of the encoder weights file shipped with {@code addFile}
 * @param encoder       encoder id (features job; the caption job takes the model's)
 * @param beam          beam width
 * @param nbest         captions listed per image
 * @param lengthAlpha   length normalisation, null for the model's recommended value
 * @param attention     include attention maps
 * @param gridFormat    features job: float16 (binary), float32 (array) or none
 * @param batch         images per network batch
 * @param decodeThreads image decoding threads per task
 * @param failOnce      fault injection for tests: null, "throw" or "exit" (see {@link FaultInjection})
 */
public record JobSettings(String modelArchive, String weightsFile, String encoder, int beam, int nbest, Double lengthAlpha,
                          boolean attention, String gridFormat, int batch, int decodeThreads, String failOnce) implements Serializable {
}
