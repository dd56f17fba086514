package org.captioner.spark;

import com.fasterxml.jackson.databind.JsonNode;
import org.captioner.cli.Main;
import org.captioner.testing.SharedData;
import org.captioner.testing.TestFaultPoints;
import org.captioner.testing.TinyModels;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Spark standalone cluster on 127.0.0.1: master and worker JVMs on a Spark distribution's jars
 * (target/spark-home/jars, from src/test/spark-dist/pom.xml: Spark's own dependency versions), the application jar
 * (target/captioner-spark.jar, the spark-app profile) submitted with SparkSubmit, two executors of one core. One
 * executor's JVM exits in the middle of a task (fault injection); Spark replaces it, reruns the task, and the output
 * still has exactly one row per input file, with the CLI's captions. run-tests builds both jars first.
 */
class SparkClusterIT {
    /**
     * The test side of the product's fault points ({@link TestFaultPoints} and its service file) as a jar for the
     * executors: they load it beside the application jar, so the injected executor loss happens there.
     */
    static Path faultPointsJar(Path dir) throws java.io.IOException {
        Path jar = dir.resolve("fault-points.jar"), classes = Path.of("target/test-classes");
        String service = "META-INF/services/" + org.captioner.util.FaultPoint.class.getName();
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar)); var s = Files.walk(classes)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                String name = classes.relativize(f).toString().replace('\\', '/');
                if (!name.equals(service) && !name.startsWith(TestFaultPoints.class.getName().replace('.', '/'))) continue;
                out.putNextEntry(new java.util.jar.JarEntry(name));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    static final Path APP_JAR = Path.of("target/captioner-spark.jar"), SPARK_HOME = Path.of("target/spark-home");

    @TempDir
    Path dir;

    @Test
    void jobOnAStandaloneClusterSurvivesALostExecutor() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(APP_JAR) && Files.isDirectory(SPARK_HOME.resolve("jars")),
                "skipped: needs target/captioner-spark.jar and target/spark-home/jars, which ./run-tests builds first "
                        + "(mvn -Pspark-app -DskipTests package; mvn -f src/test/spark-dist/pom.xml dependency:copy-dependencies "
                        + "-DoutputDirectory=$PWD/target/spark-home/jars)");
        Path weights = SharedData.squeezenetWeights();
        Path images = SparkFixture.images(dir, 6);
        Path model = TinyModels.squeezenetAttention(dir, "spark cluster test fixture");
        Path out = dir.resolve("out");
        try (StandaloneCluster cluster = new StandaloneCluster(SPARK_HOME, dir.resolve("cluster"), 2, "6g")) {
            Path log = dir.resolve("submit.log");
            Process submit = cluster.submit(APP_JAR,
                    List.of("--conf", "spark.executor.cores=1", "--conf", "spark.executor.memory=2g", "--conf", "spark.cores.max=2",
                            "--conf", "spark.ui.enabled=false", "--conf", TestFaultPoints.SPARK_FAIL_ONCE + "=exit",
                            "--jars", faultPointsJar(dir).toString()),
                    List.of("caption", images.toUri().toString(), "--model", model.toString(), "--weights", weights.toString(),
                            "--batch", "2", "--out", out.toUri().toString(), "--format", "json"), log, Map.of());
            boolean done = submit.waitFor(8, TimeUnit.MINUTES);
            String output = Files.readString(log);
            assertTrue(done, "the job did not finish in 8 minutes:\n" + tail(output));
            assertEquals(org.captioner.cli.Main.EXIT_PARTIAL, submit.exitValue(), "exit 1 (bad files), not a failed job:\n" + tail(output));
            assertTrue(output.contains("ExecutorLostFailure") || output.contains("exited"), "an executor was lost:\n" + tail(output));
            long executorsStarted;
            try (Stream<Path> s = Files.walk(cluster.workDir())) {
                executorsStarted = s.filter(p -> p.getFileName().toString().equals("stderr")).count();
            }
            assertTrue(executorsStarted >= 3, "two executors, and one more in place of the lost one: " + executorsStarted);
        }
        Path cli = dir.resolve("cli.jsonl");
        Main.commandLine().execute("caption", images.toString(), "--model", model.toString(), "--weights", weights.toString(),
                "--out", cli.toString(), "--no-progress");
        Map<String, JsonNode> spark = SparkFixture.jsonRows(out), expected = SparkFixture.jsonl(cli);
        assertEquals(expected.keySet(), spark.keySet(), "exactly one row per input file");
        for (Map.Entry<String, JsonNode> e : expected.entrySet()) {
            JsonNode s = spark.get(e.getKey());
            if (e.getValue().has("error")) assertEquals(e.getValue().get("error").asText(), s.get("error").asText());
            else assertEquals(e.getValue().get("caption").asText(), s.get("caption").asText(), e.getKey());
        }
    }

    static String tail(String s) {
        return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
    }
}
