package org.captioner.spark;

import java.io.Serializable;

/**
 * What every task needs, sent from the driver with the task (small: names, not files). The model folder and the
 * encoder weights travel as Spark files ({@code SparkContext.addArchive/addFile}); tasks find them by name.
 *
 * @param modelArchive  name of the model archive shipped with {@code addArchive} (null for the features job)
 * @param weightsFile   name of the encoder weights file shipped with {@code addFile}
 * @param encoder       encoder id (features job; the caption job takes the model's)
 * @param decode        decoding options of the caption job, resolved for its model on the driver (null for the features job)
 * @param attention     include attention maps
 * @param gridFormat    features job: float16 (binary), float32 (array) or none
 * @param batch         images per network batch
 * @param decodeThreads image decoding threads per task
 */
public record JobSettings(String modelArchive, String weightsFile, String encoder, org.captioner.decode.DecodeOptions decode,
                          boolean attention, String gridFormat, int batch, int decodeThreads) implements Serializable {
}
