package org.captioner.cli;

import org.captioner.Captioner;
import org.captioner.encoder.NativeSetup;
import org.captioner.image.ImageFiles;
import org.captioner.serve.CaptionServer;
import org.captioner.serve.ServeOptions;
import org.captioner.util.PeakMemory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bench serve}: the HTTP service against the batch CLI on the same images, side by side in one run: first the
 * {@code caption} command (in this JVM, its own figure, model loading excluded as it reports it), then the server on
 * loopback with 1 client (latency) and with N concurrent clients (throughput, latency, batch sizes).
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "HTTP service throughput and latency (1 and N clients) beside the batch CLI's images/s on the same images.")
final class BenchServeCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "INPUT", description = "Image folders or files.") List<Path> inputs;
    @Option(names = "--model", description = "Model folder (default: the bundled models/default).") Path model;
    @Option(names = "--weights", description = "Encoder weights file.") Path weights;
    @Option(names = "--clients", defaultValue = "16", description = "Concurrent clients.") int clients;
    @Option(names = "--single", defaultValue = "100", description = "Requests for the 1-client latency.") int single;
    @Option(names = "--max-batch", defaultValue = "16", description = "Most images per network call in the server.") int maxBatch;
    @Option(names = "--max-wait-ms", defaultValue = "10", description = "Longest a request waits for others to share its batch.") int maxWaitMs;
    @Option(names = "--skip-cli", description = "Do not run the batch CLI beside it.") boolean skipCli;
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private static final Pattern RATE = Pattern.compile("\\(([0-9.]+) images/s\\)");

    @Override
    public Integer call() throws Exception {
        Options.positive(spec, "--clients", clients);
        Options.positive(spec, "--single", single);
        List<ImageFiles.Input> images = ImageFiles.collect(inputs, false);
        if (images.isEmpty()) throw new CommandLine.ParameterException(spec.commandLine(), "no images found in " + inputs);
        Path modelDir = model != null ? model : Captioner.defaultModel();
        PrintWriter out = spec.commandLine().getOut();
        NativeSetup.init();
        double cliRate = Double.NaN;
        if (!skipCli) {
            Path tmp = Files.createTempFile("bench-serve", ".jsonl");
            StringWriter err = new StringWriter();
            List<String> args = new ArrayList<>(List.of("caption", "--model", modelDir.toString(), "--no-progress", "--overwrite", "--out", tmp.toString()));
            if (weights != null) args.addAll(List.of("--weights", weights.toString()));
            for (Path p : inputs) args.add(p.toString());
            CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int rc = cl.execute(args.toArray(String[]::new));
            Matcher m = RATE.matcher(err.toString());
            if (rc != Main.EXIT_OK || !m.find()) throw new IllegalStateException("the caption command failed: " + err);
            cliRate = Double.parseDouble(m.group(1));
            Files.deleteIfExists(tmp);
            out.printf("batch CLI caption: %d images, %.1f images/s%n", images.size(), cliRate);
        }
        try (Captioner c = Captioner.builder().weights(weights).build(modelDir);
             CaptionServer server = CaptionServer.start(c, ServeOptions.defaults().withPort(0).withBatching(maxBatch, maxWaitMs)
                     .withLimits(64 * ServeOptions.MB, 100_000_000L, Math.max(64, clients * 2)))) {
            List<byte[]> bodies = new ArrayList<>();
            for (ImageFiles.Input i : images) bodies.add(Files.readAllBytes(i.file()));
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/captions");
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            run(http, uri, bodies.subList(0, Math.min(4, bodies.size())), 1);          // warm-up (JIT, first batch)
            server.resetBatchSizes();
            Result one = run(http, uri, bodies.subList(0, Math.min(single, bodies.size())), 1);
            out.printf("serve, 1 client:    %d requests, %.1f images/s, latency p50 %.0f ms, p99 %.0f ms%n", one.n, one.rate(), one.pct(50), one.pct(99));
            server.resetBatchSizes();
            Result many = run(http, uri, bodies, clients);
            Map<Integer, Long> sizes = server.batchSizes();
            out.printf("serve, %d clients:  %d requests, %.1f images/s%s, latency p50 %.0f ms, p99 %.0f ms%n", clients, many.n, many.rate(),
                    Double.isNaN(cliRate) ? "" : String.format(" (%.2fx the batch CLI)", many.rate() / cliRate), many.pct(50), many.pct(99));
            out.printf("batch sizes at %d clients (size=count): %s; %s%n", clients, sizes, PeakMemory.describe());
            if (many.failed > 0) out.printf("%d requests failed%n", many.failed);
        }
        return Main.EXIT_OK;
    }

    private record Result(int n, int failed, double seconds, double[] latencyMs) {
        double rate() {
            return (n - failed) / seconds;
        }

        double pct(double p) {
            double[] s = latencyMs.clone();
            Arrays.sort(s);
            return s[(int) Math.min(s.length - 1, Math.ceil(p / 100 * s.length) - 1)];
        }
    }

    private static Result run(HttpClient http, URI uri, List<byte[]> bodies, int clients) throws Exception {
        double[] lat = new double[bodies.size()];
        AtomicInteger next = new AtomicInteger(), failed = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long t0 = System.nanoTime();
        List<Future<?>> fs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            fs.add(pool.submit(() -> {
                for (int i; (i = next.getAndIncrement()) < bodies.size(); ) {
                    long s = System.nanoTime();
                    HttpResponse<Void> r = http.send(HttpRequest.newBuilder(uri).header("Content-Type", "image/jpeg")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(bodies.get(i))).build(), HttpResponse.BodyHandlers.discarding());
                    lat[i] = (System.nanoTime() - s) / 1e6;
                    if (r.statusCode() != 200) failed.incrementAndGet();
                }
                return null;
            }));
        }
        for (Future<?> f : fs) f.get();
        pool.shutdown();
        return new Result(bodies.size(), failed.get(), (System.nanoTime() - t0) / 1e9, lat);
    }
}
