package org.captioner.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code captioner spark ...}: the Spark jobs ({@link org.captioner.spark.SparkJobs}). Spark is a provided dependency,
 * so the plain CLI classpath lacks it; {@code ./captioner spark} adds Spark's jars and the JVM flags Spark needs and
 * starts {@code SparkJobs} directly. This command is what {@code --help} lists, and runs the jobs when Spark is on
 * the classpath anyway (e.g. an IDE run with provided dependencies).
 */
@Command(name = "spark", description = {"Caption or encode images as an Apache Spark job: spark caption|features|features-folder|bench.",
        "Run it as ./captioner spark ... (adds Spark's jars) or spark-submit --class org.captioner.spark.SparkJobs (docs/spark.md)."})
public final class SparkCommand implements Callable<Integer> {
    @Unmatched
    List<String> args = new ArrayList<>();          // the job and its options, passed on as they are

    @Override
    public Integer call() {
        try {
            Class.forName("org.apache.spark.sql.SparkSession");
        } catch (ClassNotFoundException e) {
            System.err.println("error: Spark is not on this classpath; run './captioner spark " + String.join(" ", args)
                    + "' (the launcher adds Spark's jars) or spark-submit with target/captioner-spark.jar (docs/spark.md)");
            return Main.EXIT_FATAL;
        }
        return org.captioner.spark.SparkJobs.run(args.toArray(new String[0]));
    }
}
