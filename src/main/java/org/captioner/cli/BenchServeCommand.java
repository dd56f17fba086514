package org.captioner.cli;

import org.captioner.pipeline.CaptionPipeline;
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
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code bench serve}: the HTTP service against the batch CLI on the same images, side by side in one run: first the
 * {@code caption} command (in this JVM, its own figure, model loading excluded as it reports it), then the server on
 * loopback with 1 client (latency) and with N concurrent clients (throughput, latency, batch sizes).
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "HTTP service throughput and latency (1 and N clients) beside the batch CLI's images/s on the same images.")
final class BenchServeCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "INPUT", description = "Image folders or files.") List<Path> inputs;
    @CommandLine.Mixin ModelOptions model = new ModelOptions();
    @CommandLine.Mixin BeamOptions search = new BeamOptions();
    @Option(names = "--clients", defaultValue = "16", description = "Concurrent clients.") int clients;
    @Option(names = "--single", defaultValue = "100", description = "Requests for the 1-client latency.") int single;
    @Option(names = "--max-batch", defaultValue = org.captioner.decode.DecodeOptions.DEFAULT_BATCH, description = "Most images per network call in the server.") int maxBatch;
    @Option(names = "--max-wait-ms", defaultValue = "10", description = "Longest a request waits for others to share its batch.") int maxWaitMs;
    @Option(names = "--skip-cli", description = "Do not run the batch CLI beside it.") boolean skipCli;
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;


    @Override
    public Integer call() throws Exception {
        search.check(spec);
        Options.positive(spec, "--clients", clients);
        Options.positive(spec, "--single", single);
        List<org.captioner.ImageInput> images = ImageFiles.collect(inputs, false);
        if (images.isEmpty()) throw new CommandLine.ParameterException(spec.commandLine(), "no images found in " + inputs);
        Path modelDir = model.modelDir();
        PrintWriter out = spec.commandLine().getOut();
        NativeSetup.init();
        double cliRate = Double.NaN;
        if (!skipCli) {
            Path tmp = Files.createTempFile("bench-serve", ".jsonl"), stats = Files.createTempFile("bench-serve", ".json");
            StringWriter err = new StringWriter();
            List<String> args = new ArrayList<>(List.of("caption", "--model", modelDir.toString(), "--no-progress", "--overwrite", "--out", tmp.toString(),
                    "--stats-json", stats.toString(), "--beam", String.valueOf(search.beam)));
            if (search.lengthAlpha != null) args.addAll(List.of("--length-alpha", String.valueOf(search.lengthAlpha)));
            if (model.weights != null) args.addAll(List.of("--weights", model.weights.toString()));
            for (Path p : inputs) args.add(p.toString());
            CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int rc = cl.execute(args.toArray(String[]::new));
            if (rc != Main.EXIT_OK) throw new IllegalStateException("the caption command failed: " + err);
            cliRate = new com.fasterxml.jackson.databind.ObjectMapper().readTree(stats.toFile()).get("images_per_second").asDouble();
            Files.deleteIfExists(tmp);
            Files.deleteIfExists(stats);
            out.printf("batch CLI caption: %d images, %.1f images/s%n", images.size(), cliRate);
        }
        try (CaptionPipeline c = CaptionPipeline.load(modelDir, model.weights);
             CaptionServer server = CaptionServer.start(c, search.resolve(c.model()),
                     ServeOptions.defaults().withPort(0).withBatching(maxBatch, maxWaitMs)
                     .withLimits(64 * ServeOptions.MB, 100_000_000L, Math.max(64, clients * 2)))) {
            List<byte[]> bodies = new ArrayList<>();
            for (org.captioner.ImageInput i : images) bodies.add(Files.readAllBytes(i.file()));
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/captions");
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            run(http, uri, bodies.subList(0, Math.min(4, bodies.size())), 1);          // warm-up (JIT, first batch)
            Result one = run(http, uri, bodies.subList(0, Math.min(single, bodies.size())), 1);
            out.printf("serve, 1 client:    %d requests, %.1f images/s, latency p50 %.0f ms, p99 %.0f ms%n", one.n, one.rate(), one.pct(50), one.pct(99));
            double[] before = batches(http, server.port());
            Result many = run(http, uri, bodies, clients);
            double[] after = batches(http, server.port());
            double meanBatch = (after[1] - before[1]) / Math.max(1, after[0] - before[0]);
            out.printf("serve, %d clients:  %d requests, %.1f images/s%s, latency p50 %.0f ms, p99 %.0f ms%n", clients, many.n, many.rate(),
                    Double.isNaN(cliRate) ? "" : String.format(" (%.2fx the batch CLI)", many.rate() / cliRate), many.pct(50), many.pct(99));
            out.printf("mean batch size at %d clients: %.1f images per network call (from /metrics); %s%n", clients, meanBatch, PeakMemory.describe());
            if (many.failed > 0) out.printf("%d requests failed%n", many.failed);
        }
        return Main.EXIT_OK;
    }

    /** {network calls, images in them} so far, from the server's /metrics (the captioner_batch_size histogram). */
    private static double[] batches(HttpClient http, int port) throws Exception {
        String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        double count = 0, sum = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith("captioner_batch_size_count")) count = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            if (line.startsWith("captioner_batch_size_sum")) sum = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
        return new double[] {count, sum};
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
