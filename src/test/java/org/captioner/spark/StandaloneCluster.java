package org.captioner.spark;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Spark standalone cluster on 127.0.0.1 from a Spark distribution's jars ({@code SPARK_HOME/jars}): one master and
 * one worker, each its own JVM started with Spark's {@code Master} and {@code Worker} classes, as {@code sbin/start-master.sh}
 * and {@code start-worker.sh} would; jobs go in through {@code SparkSubmit} in a third JVM, as {@code bin/spark-submit}.
 * For the cluster tests and the cluster benchmark; a real cluster is started by its own scripts.
 */
public final class StandaloneCluster implements AutoCloseable {
    /**
     * Spark's Java 17 module openings (its JavaModuleOptions), for the JVMs started here (SparkContext adds them to
     * executors): the resource {@code java17-options}, the argument file ./captioner and the test JVMs use too.
     */
    public static final List<String> JAVA17_OPTIONS = java17Options();

    private static List<String> java17Options() {
        try (var in = StandaloneCluster.class.getResourceAsStream("java17-options")) {
            if (in == null) throw new IllegalStateException("the resource org/captioner/spark/java17-options is missing");
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).lines().map(String::strip)
                    .filter(l -> !l.isEmpty()).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private final Path sparkHome;
    private final Path dir;
    private final Process master;
    private final Process worker;
    private final int masterPort;

    /**
     * @param sparkHome a folder with {@code jars/} (Spark's jars)
     * @param dir       logs and the worker's work folder
     * @param cores     worker cores
     * @param memory    worker memory for executors, e.g. "8g"
     */
    public StandaloneCluster(Path sparkHome, Path dir, int cores, String memory) throws IOException, InterruptedException {
        if (!Files.isDirectory(sparkHome.resolve("jars"))) throw new IOException(sparkHome + "/jars not found: not a Spark distribution");
        this.sparkHome = sparkHome.toAbsolutePath();
        this.dir = dir.toAbsolutePath();
        Files.createDirectories(this.dir.resolve("work"));
        this.masterPort = freePort();
        this.master = start("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", String.valueOf(masterPort),
                "--webui-port", String.valueOf(freePort())), "512m");
        Process w = null;
        try {
            waitForPort(masterPort, master, 120);
            w = start("worker", List.of("org.apache.spark.deploy.worker.Worker", masterUrl(), "--host", "127.0.0.1", "--cores", String.valueOf(cores),
                    "--memory", memory, "--work-dir", this.dir.resolve("work").toString(), "--webui-port", String.valueOf(freePort())), "512m");
            waitForLog(this.dir.resolve("worker.log"), "Successfully registered with master", w, 120);
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (w != null) w.destroyForcibly();
            master.destroyForcibly();
            throw e;
        }
        this.worker = w;
    }

    public String masterUrl() {
        return "spark://127.0.0.1:" + masterPort;
    }

    public Path workDir() {
        return dir.resolve("work");
    }

    /** The worker's executor JVMs now running (CoarseGrainedExecutorBackend children of the worker). */
    public List<ProcessHandle> executors() {
        return worker.descendants().filter(p -> p.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend")).toList();
    }

    /**
     * Runs {@code spark-submit --master <this cluster> [sparkArgs] appJar appArgs} in a JVM of its own; returns it
     * (its output goes to {@code log}).
     */
    public Process submit(Path appJar, List<String> sparkArgs, List<String> appArgs, Path log, Map<String, String> env) throws IOException {
        List<String> cmd = new ArrayList<>(javaCommand("1g"));
        cmd.add("org.apache.spark.deploy.SparkSubmit");
        cmd.addAll(List.of("--master", masterUrl(), "--deploy-mode", "client", "--class", SparkJobs.class.getName()));
        cmd.addAll(sparkArgs);
        cmd.add(appJar.toAbsolutePath().toString());
        cmd.addAll(appArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        environment(pb).putAll(env);
        return pb.start();
    }

    private List<String> javaCommand(String heap) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        cmd.addAll(JAVA17_OPTIONS);
        cmd.add("-cp");
        cmd.add(sparkHome.resolve("jars") + "/*");
        return cmd;
    }

    private Map<String, String> environment(ProcessBuilder pb) {
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");           // the worker's executor command builder asks for it
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.remove("SPARK_CONF_DIR");
        return env;
    }

    private Process start(String name, List<String> args, String heap) throws IOException {
        List<String> cmd = new ArrayList<>(javaCommand(heap));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
        environment(pb);
        return pb.start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void waitForPort(int port, Process p, int seconds) throws IOException, InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (!p.isAlive()) throw new IOException("the Spark master exited (" + p.exitValue() + ")");
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                Thread.sleep(250);
            }
        }
        throw new IOException("the Spark master did not open port " + port + " within " + seconds + " s");
    }

    private static void waitForLog(Path log, String line, Process p, int seconds) throws IOException, InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (Files.exists(log) && Files.readString(log).contains(line)) return;
            if (!p.isAlive()) throw new IOException("a Spark process exited (" + p.exitValue() + "); see " + log);
            Thread.sleep(250);
        }
        throw new IOException("no '" + line + "' in " + log + " within " + seconds + " s");
    }

    @Override
    public void close() {
        for (Process p : new Process[] {worker, master}) {
            if (p == null) continue;
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
            p.descendants().forEach(ProcessHandle::destroyForcibly);
        }
    }
}
