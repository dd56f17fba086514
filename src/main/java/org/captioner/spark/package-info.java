/**
 * Scale-out: {@code caption} and {@code features} as Apache Spark applications ({@link org.captioner.spark.SparkJobs}).
 * Spark lists and reads the files ({@code binaryFile}), schedules, retries and commits the output; each partition
 * goes through the same pipeline as the CLI ({@link org.captioner.image.ImageBatchLoader} -> encoder -> beam search),
 * with one {@link org.captioner.Captioner} per executor JVM ({@link org.captioner.spark.ExecutorResources}).
 */
package org.captioner.spark;
