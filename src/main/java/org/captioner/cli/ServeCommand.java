package org.captioner.cli;

import org.captioner.pipeline.CaptionPipeline;
import org.captioner.encoder.NativeSetup;
import org.captioner.serve.CaptionServer;
import org.captioner.serve.ServeOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code captioner serve}: the HTTP service (see {@link CaptionServer}); runs until SIGTERM or Ctrl-C, then drains. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve captions over HTTP: POST /v1/captions, a page to try it at /, /healthz, /v1/model, /metrics, /openapi.json."})
public final class ServeCommand implements Callable<Integer> {
    @CommandLine.Mixin ModelOptions model = new ModelOptions();
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Interface to listen on (0.0.0.0 for all).") String host;
    @Option(names = "--port", defaultValue = "8080", description = "Port (0 = any free port).") int port;
    @CommandLine.Mixin BeamOptions search = new BeamOptions();           // requests may ask for another beam
    @Option(names = "--max-batch", defaultValue = org.captioner.decode.DecodeOptions.DEFAULT_BATCH, description = "Most images per network call.") int maxBatch;
    @Option(names = "--max-wait-ms", defaultValue = "10", description = "Longest a request waits for others to share its batch.") int maxWaitMs;
    @Option(names = "--max-bytes", defaultValue = "20MB", description = "Largest request body, e.g. 20MB, 512KB.") String maxBytes;
    @Option(names = "--max-pixels", defaultValue = "50M", description = "Largest image (width x height as its header declares), e.g. 50M.") String maxPixels;
    @Option(names = "--queue", defaultValue = "64", description = "Images that may wait for the network; beyond, 503.") int queue;
    @Option(names = "--threads", defaultValue = "16", description = "Requests that decode images at once (64 more HTTP threads only read request bodies, so slow uploads cannot take these).") int threads;
    @Option(names = "--timeout-ms", defaultValue = "60000", description = "Longest a request waits for its caption.") int timeoutMs;
    @Option(names = "--token-file", description = "Require 'Authorization: Bearer <token>' on /v1 and /metrics, the token being this file's content.") Path tokenFile;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        search.check(spec);
        String token = null;
        if (tokenFile != null) {
            if (!Files.isReadable(tokenFile)) throw new CommandLine.ParameterException(spec.commandLine(), "--token-file " + tokenFile + " cannot be read");
            token = Files.readString(tokenFile).trim();
            if (token.isEmpty()) throw new CommandLine.ParameterException(spec.commandLine(), "--token-file " + tokenFile + " is empty");
        }
        ServeOptions o;
        try {
            o = new ServeOptions(host, port, maxBatch, maxWaitMs, size("--max-bytes", maxBytes, 1024), size("--max-pixels", maxPixels, 1000),
                    queue, threads, timeoutMs, token);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        NativeSetup.init();
        CaptionPipeline pipeline = model.load();
        CaptionServer server = CaptionServer.start(pipeline, search.resolve(pipeline.model()), o);
        spec.commandLine().getOut().println("serving on http://" + o.host() + ":" + server.port() + "/  (Ctrl-C to stop)");
        spec.commandLine().getOut().flush();
        CountDownLatch stop = new CountDownLatch(1);
        // SIGTERM / Ctrl-C: refuse new requests, let those in flight finish, then exit 0. Signal handlers (not a
        // shutdown hook) so that the drain happens before the JVM starts shutting down and the exit code is ours.
        for (String sig : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> stop.countDown());
            } catch (IllegalArgumentException e) {
                // the signal is not available here (or reserved by the JVM): Ctrl-C then ends the JVM at once
            }
        }
        stop.await();
        spec.commandLine().getErr().println("stopping: finishing the requests in flight");
        server.shutdown(30_000);
        pipeline.close();
        return Main.EXIT_OK;
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([KMGT]?)(I?B)?", Pattern.CASE_INSENSITIVE);

    /** "20MB", "512kb", "50M", "1000": {@code unit} is 1024 for bytes, 1000 for pixel counts. */
    private long size(String name, String v, long unit) {
        Matcher m = SIZE.matcher(v.trim());
        if (!m.matches()) throw new CommandLine.ParameterException(spec.commandLine(), name + ": '" + v + "' is not a size like 20MB or 50M");
        int power = "KMGT".indexOf(m.group(2).toUpperCase(Locale.ROOT)) + 1;
        return (long) (Double.parseDouble(m.group(1)) * Math.pow(unit, power));
    }
}
