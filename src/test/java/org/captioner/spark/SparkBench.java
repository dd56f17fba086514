package org.captioner.spark;

import org.captioner.util.PeakMemory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./captioner spark bench DIR} (a benchmark driver: test sources, run by the launcher from the test classpath): the CLI's {@code caption} and the Spark {@code caption} job in {@code local[2]}
 * on the same images and model, one after the other in one run, each in a JVM of its own (so each has its own peak
 * memory), and with {@code --cluster} the job on a standalone cluster (1 worker, 2 cores) started here. Prints
 * images/s end to end (process start to exit: JVM, model load, Spark start-up included) and as each job reports it.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Spark caption job (local[2], and a standalone cluster with --cluster) beside the CLI's caption on the same images.")
public final class SparkBench implements Callable<Integer> {
    public static void main(String[] args) {
        System.exit(org.captioner.cli.Options.showDefaults(new picocli.CommandLine(new SparkBench())).execute(args));
    }

    @Parameters(index = "0", paramLabel = "DIR", description = "Image folder (local).")
    Path images;
    @Option(names = "--model", description = "Model folder (default: the bundled models/default).")
    Path model;
    @Option(names = "--weights", description = "Encoder weights file (default: as the CLI finds them).")
    Path weights;
    @Option(names = "--cluster", description = {"Also run on a standalone cluster on 127.0.0.1 (needs target/captioner-spark.jar and",
            "target/spark-home/jars, which ./run-tests builds)."})
    boolean cluster;
    @Option(names = "--executors", defaultValue = "1", description = "Executors on the cluster's 2-core worker: 1 (2 cores each) or 2 (1 core each).")
    int executors;
    @Option(names = "--work", description = "Folder for outputs and logs (default: a temp folder).")
    Path work;

    record Run(String name, double wallSeconds, int images, double jobRate, long peakRssMiB) {
        double wallRate() {
            return images / wallSeconds;
        }
    }

    @Override
    public Integer call() throws Exception {
        Path w = work != null ? Files.createDirectories(work) : Files.createTempDirectory("captioner-spark-bench");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String fullCp = System.getProperty("java.class.path");
        String cliCp = System.getProperty("captioner.cli.classpath", fullCp);     // the launcher passes the CLI's own
        List<String> common = new ArrayList<>();
        if (model != null) common.addAll(List.of("--model", model.toAbsolutePath().toString()));
        if (weights != null) common.addAll(List.of("--weights", weights.toAbsolutePath().toString()));
        List<Run> runs = new ArrayList<>();

        List<String> cli = new ArrayList<>(List.of(java, "-Xmx6g", "-cp", cliCp, "org.captioner.cli.Main", "caption", images.toString(),
                "--out", w.resolve("cli.jsonl").toString(), "--overwrite", "--no-progress", "--stats-json", w.resolve("cli.json").toString()));
        cli.addAll(common);
        runs.add(run("CLI caption", cli, w.resolve("cli.log"), w.resolve("cli.json")));

        List<String> local = new ArrayList<>(List.of(java, "-Xmx6g"));
        local.addAll(StandaloneCluster.JAVA17_OPTIONS);
        local.addAll(List.of("-cp", fullCp, SparkJobs.class.getName(), "caption", "--master", "local[2]", "--conf", "spark.ui.enabled=false",
                images.toAbsolutePath().toString(), "--out", w.resolve("spark-local").toString(), "--overwrite",
                "--stats-json", w.resolve("spark-local.json").toString()));
        local.addAll(common);
        runs.add(run("Spark local[2]", local, w.resolve("spark-local.log"), w.resolve("spark-local.json")));

        if (cluster) {
            Path jar = Path.of("target/captioner-spark.jar"), home = Path.of("target/spark-home");
            if (!Files.isRegularFile(jar) || !Files.isDirectory(home.resolve("jars"))) {
                throw new IOException("--cluster needs target/captioner-spark.jar and target/spark-home/jars (see docs/spark.md)");
            }
            try (StandaloneCluster c = new StandaloneCluster(home, w.resolve("cluster"), 2, "8g")) {
                List<String> args = new ArrayList<>(List.of("caption", images.toAbsolutePath().toUri().toString(), "--out",
                        w.resolve("spark-cluster").toUri().toString(), "--overwrite", "--stats-json", w.resolve("spark-cluster.json").toString()));
                args.addAll(common);
                long t0 = System.nanoTime();
                Path log = w.resolve("spark-cluster.log");
                if (executors != 1 && executors != 2) throw new IOException("--executors must be 1 or 2 (the worker has 2 cores)");
                Process p = c.submit(jar, List.of("--conf", "spark.executor.cores=" + (2 / executors), "--conf", "spark.cores.max=2",
                        "--conf", "spark.executor.memory=" + (6 / executors) + "g", "--conf", "spark.ui.enabled=false"), args, log, Map.of());
                long peak = watch(p, c::executors);
                runs.add(finish("Spark standalone, " + executors + " executor(s) x " + (2 / executors) + " cores", p, t0, log,
                        w.resolve("spark-cluster.json"), peak));
            }
        }
        Run base = runs.get(0);
        System.out.printf("%-38s %8s %10s %12s %12s %10s%n", "run", "images", "wall s", "images/s e2e", "job images/s", "peak RSS");
        for (Run r : runs) {
            System.out.printf("%-38s %8d %10.1f %8.2f (%.2fx) %7.2f (%.2fx) %7d MiB%n", r.name(), r.images(), r.wallSeconds(), r.wallRate(),
                    r.wallRate() / base.wallRate(), r.jobRate(), r.jobRate() / base.jobRate(), r.peakRssMiB());
        }
        System.out.println("(peak RSS: the process's VmHWM; for the cluster, the driver's plus the executors'; logs in " + w + ")");
        return 0;
    }

    private Run run(String name, List<String> cmd, Path log, Path stats) throws Exception {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long peak = watch(p, List::of);
        return finish(name, p, t0, log, stats, peak);
    }

    /** A run's figures from the JSON its command wrote with {@code --stats-json}. */
    private Run finish(String name, Process p, long t0, Path log, Path stats, long peak) throws IOException, InterruptedException {
        p.waitFor();
        double wall = (System.nanoTime() - t0) / 1e9;
        if (p.exitValue() > 1 || !Files.exists(stats)) throw new IOException(name + " failed (exit " + p.exitValue() + "); see " + log);
        var st = new com.fasterxml.jackson.databind.ObjectMapper().readTree(stats.toFile());
        return new Run(name, wall, st.get("images").asInt(), st.get("images_per_second").asDouble(), peak);
    }

    /** Polls until the process ends; returns the largest sum of VmHWM over it and {@code others} (MiB). */
    private static long watch(Process p, java.util.function.Supplier<List<ProcessHandle>> others) throws InterruptedException {
        Map<Long, Long> peaks = new java.util.HashMap<>();
        while (!p.waitFor(200, TimeUnit.MILLISECONDS)) {
            List<ProcessHandle> all = new ArrayList<>(others.get());
            all.add(p.toHandle());
            for (ProcessHandle h : all) peaks.merge(h.pid(), Math.max(0, PeakMemory.peakRssMiB(h.pid())), Math::max);
        }
        return peaks.values().stream().mapToLong(Long::longValue).sum();
    }
}
