package org.captioner.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UploadedFile;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import org.captioner.Caption;
import org.captioner.CaptionRecord;
import org.captioner.ImageInput;
import org.captioner.pipeline.CaptionPipeline;
import org.captioner.pipeline.DynamicBatcher;
import org.captioner.decode.DecodeOptions;
import org.captioner.image.ImageBatchLoader;
import org.captioner.image.ImageDecoder;
import org.captioner.image.ImageLoadException;
import org.captioner.image.ImageTooLargeException;
import org.captioner.model.DecoderType;
import org.captioner.model.ModelBundle;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code captioner serve}: captions over HTTP on Javalin (Jetty). A request's images are read (bounded), decoded on
 * the HTTP worker threads (header-checked against the pixel limit first), preprocessed for the model's encoder and
 * handed to a {@link DynamicBatcher}, which joins concurrent requests into one encoder + beam-search call; the answer
 * is the same JSON object the CLI writes per image ({@link CaptionJson}). Every failure is a JSON error with its status
 * ({@link ApiError}); /metrics counts them by kind.
 */
public final class CaptionServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CaptionServer.class);
    private static final Set<String> OPTIONS = Set.of("beam", "nbest", "sample", "temperature", "attention", "seed");
    /** HTTP threads that may be reading request bodies beyond the decoding ones: what slow clients can hold. */
    static final int BODY_READERS = 64;
    /** The slowest average upload accepted (Jetty's minimum request data rate); slower gets 408. */
    static final int MIN_UPLOAD_BYTES_PER_S = 1024;
    /** The longest a connection may send nothing, mid-request or between requests. */
    static final int IDLE_TIMEOUT_MS = 10_000;
    private static final String REQUEST_ID = "captioner.request_id";
    /** Request ids are this server's random tag and a counter: unique across restarts, in order within one. */
    private static final int SESSION = new java.security.SecureRandom().nextInt();

    private final CaptionPipeline pipeline;
    /** The options requests start from (the command line's); a request may change beam, nbest, sampling. */
    private final DecodeOptions defaults;
    private final ServeOptions o;
    private final DynamicBatcher batcher;
    /** The pipeline's decoding stage with this server's pixel limit (a header-declared size over it is refused unread). */
    private final ImageBatchLoader preparation;
    private final ServerMetrics metrics;
    private final ObjectMapper json = new ObjectMapper();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong requests = new java.util.concurrent.atomic.AtomicLong();
    /** At most --threads requests decode images at once (the other HTTP threads only read bodies). */
    private final java.util.concurrent.Semaphore decoding;
    private final byte[] token;
    private final boolean attentionModel;
    private volatile boolean draining;
    private final Javalin app;

    private CaptionServer(CaptionPipeline pipeline, DecodeOptions defaults, ServeOptions o) {
        this.pipeline = pipeline;
        this.defaults = defaults;
        this.o = o;
        this.token = o.token() == null ? null : o.token().getBytes(StandardCharsets.UTF_8);
        this.attentionModel = pipeline.model().config().type().attends();
        this.preparation = new ImageBatchLoader(new ImageDecoder(ImageDecoder.DEFAULT_MAX_SIDE, o.maxPixels()), pipeline.preprocessor(), 1, 1);
        this.decoding = new java.util.concurrent.Semaphore(o.threads());
        this.metrics = new ServerMetrics(this::queueDepth, inFlight::get);
        this.batcher = new DynamicBatcher(pipeline, o.maxBatch(), o.maxWaitMs(), o.queue(), metrics.batchSize::observe);
        this.app = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.startupWatcherEnabled = false;
            cfg.jsonMapper(new JavalinJackson(json, false));
            cfg.http.maxRequestSize = o.maxBytes();
            cfg.http.disableCompression();                            // JSON answers are small; images are not compressible
            cfg.jetty.multipartConfig.maxFileSize(o.maxBytes(), SizeUnit.BYTES);
            cfg.jetty.multipartConfig.maxTotalRequestSize(o.maxBytes(), SizeUnit.BYTES);
            cfg.jetty.multipartConfig.maxInMemoryFileSize((int) Math.min(o.maxBytes(), 64 * ServeOptions.MB), SizeUnit.BYTES);
            // Threads that read request bodies, beyond those that decode (--threads, a semaphore below), plus what Jetty's
            // acceptor and selectors take: slow uploads wait on cheap reading threads, not on the decoding ones.
            QueuedThreadPool pool = new QueuedThreadPool(o.threads() + BODY_READERS + 4, 2);
            pool.setName("captioner-http");
            cfg.jetty.threadPool = pool;
            cfg.jetty.addConnector((server, http) -> {
                // a body arriving slower than this on average is refused with 408 (Jetty checks it as the bytes come)
                http.setMinRequestDataRate(MIN_UPLOAD_BYTES_PER_S);
                ServerConnector c = new ServerConnector(server, new HttpConnectionFactory(http));
                c.setHost(o.host());
                c.setPort(o.port());
                c.setIdleTimeout(IDLE_TIMEOUT_MS);                    // a client that stops sending is dropped
                return c;
            });
            cfg.staticFiles.add(s -> {
                s.hostedPath = "/";
                s.directory = "/org/captioner/serve/web";
                s.location = Location.CLASSPATH;
            });
        });
        app.before(this::guard);
        app.get("/healthz", this::health);
        app.get("/livez", ctx -> ctx.json(Map.of("status", "alive")));
        app.get("/readyz", this::ready);
        app.get("/v1/model", ctx -> ctx.json(modelInfo()));
        app.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
        app.get("/openapi.json", ctx -> {
            try (InputStream in = CaptionServer.class.getResourceAsStream("openapi.json")) {
                ctx.contentType("application/json").result(in.readAllBytes());
            }
        });
        app.post("/v1/captions", this::captions);
        app.exception(ApiError.class, (e, ctx) -> error(ctx, e));
        app.exception(HttpResponseException.class, (e, ctx) -> error(ctx, new ApiError(e.getStatus(), switch (e.getStatus()) {
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 413 -> "body_too_large";
            default -> "http";
        }, e.getMessage())));
        app.exception(Exception.class, (e, ctx) -> {
            log.error("request {}: {} {} failed", requestId(ctx), ctx.method(), ctx.path(), e);
            error(ctx, new ApiError(500, "internal", "internal error: " + e.getClass().getSimpleName()));
        });
        app.error(404, ctx -> {
            if (ctx.result() == null || ctx.result().isEmpty()) error(ctx, new ApiError(404, "not_found", "no such endpoint: " + ctx.method() + " " + ctx.path()));
        });
        app.error(405, ctx -> error(ctx, new ApiError(405, "method_not_allowed", ctx.method() + " is not allowed on " + ctx.path())));
        app.after(ctx -> metrics.requests.labelValues(endpoint(ctx), String.valueOf(ctx.statusCode())).inc());
    }

    /** Starts listening; the model is loaded already, so the server is ready (healthz 200) once this returns. */
    public static CaptionServer start(CaptionPipeline pipeline, DecodeOptions defaults, ServeOptions o) {
        CaptionServer s = new CaptionServer(pipeline, defaults, o);
        s.app.start();
        log.info("captioning with {} on http://{}:{}/ (max batch {}, max wait {} ms, queue {}, {})", pipeline.model().dir(), o.host(), s.port(),
                o.maxBatch(), o.maxWaitMs(), o.queue(), o.token() == null ? "no token" : "bearer token required");
        return s;
    }

    /** Images waiting for the network (a gauge of /metrics). */
    private int queueDepth() {
        return batcher.queueDepth();
    }

    /** Caption requests being handled now. */
    public int inFlight() {
        return inFlight.get();
    }

    public int port() {
        return ((ServerConnector) app.jettyServer().server().getConnectors()[0]).getLocalPort();
    }

    /**
     * Graceful stop: new requests get 503 at once, requests in flight finish (up to {@code graceMs}), then the batcher
     * and the HTTP server stop.
     */
    public void shutdown(long graceMs) {
        if (draining && app.jettyServer().server().isStopped()) return;
        draining = true;
        long deadline = System.currentTimeMillis() + graceMs;
        while (inFlight.get() > 0 && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        batcher.close();
        app.stop();
        log.info("stopped ({} requests still in flight)", inFlight.get());
    }

    @Override
    public void close() {
        shutdown(30_000);
    }

    // ------------------------------------------------------------------ handlers

    private void guard(Context ctx) {
        String id = String.format(Locale.ROOT, "%08x-%d", SESSION, requests.incrementAndGet());
        ctx.attribute(REQUEST_ID, id);
        ctx.header("X-Request-Id", id);
        if (ctx.path().equals("/livez")) return;                       // alive while draining too
        if (draining) {
            ctx.header("Connection", "close");
            throw new ApiError(503, "shutting_down", "the server is shutting down", 5);
        }
        String p = ctx.path();
        if (token != null && (p.startsWith("/v1/") || p.equals("/metrics"))) {
            String h = ctx.header("Authorization");
            byte[] given = h != null && h.startsWith("Bearer ") ? h.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
            if (!MessageDigest.isEqual(given, token)) {                // constant time for equal lengths
                ctx.header("WWW-Authenticate", "Bearer");
                throw new ApiError(401, "unauthorized", h == null ? "missing Authorization: Bearer <token>" : "wrong token");
            }
        }
    }

    /** Ready for traffic: the model is loaded (it is, once the server listens), not draining, and the queue not full. */
    private void ready(Context ctx) {
        int depth = batcher.queueDepth();
        if (depth >= o.queue()) throw new ApiError(503, "queue_full", "the queue is full (" + depth + " images waiting)", 1);
        health(ctx);
    }

    private void health(Context ctx) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "ready");
        m.put("model", pipeline.model().dir().getFileName().toString());
        m.put("queue_depth", batcher.queueDepth());
        ctx.json(m);
    }

    private ObjectNode modelInfo() {
        ModelBundle m = pipeline.model();
        ObjectNode n = json.createObjectNode();
        n.put("model", m.dir().getFileName().toString());
        n.put("decoder", m.config().type().id());
        n.put("attention", attentionModel);
        n.put("encoder", m.encoder());
        n.put("encoder_weights_sha256", m.encoderWeightsSha256());
        n.put("vocabulary_size", m.vocabulary().size());
        n.put("recommended_length_alpha", m.recommendedLengthAlpha());
        DecodeOptions d = defaults;
        ObjectNode def = n.putObject("default_options");
        def.put("beam", d.beam());
        def.put("length_alpha", d.lengthAlpha());
        def.put("max_length", d.maxLength());
        n.set("training", m.training());
        return n;
    }

    private void captions(Context ctx) throws IOException {
        long t0 = System.nanoTime();
        inFlight.incrementAndGet();
        try {
            captionsInFlight(ctx);
        } finally {
            inFlight.decrementAndGet();
            metrics.latency.observe((System.nanoTime() - t0) / 1e9);
        }
    }

    private void captionsInFlight(Context ctx) throws IOException {
        long declared = ctx.req().getContentLengthLong();
        if (declared > o.maxBytes()) throw tooLarge(declared);
        String type = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(Locale.ROOT);
        boolean multipart = type.startsWith("multipart/form-data");
        List<Named> images = new ArrayList<>();
        if (multipart) {
            List<UploadedFile> files;
            try {
                files = ctx.uploadedFiles("image");                  // parses the whole form (its fields are options)
            } catch (Exception e) {                                  // Javalin (Kotlin) throws the parser's IOException unchecked
                throw bodyError(e, true);
            }
            if (files.isEmpty()) throw new ApiError(400, "bad_request", "the multipart form has no field named 'image'");
            if (files.size() > o.queue()) throw new ApiError(413, "too_many_images", files.size() + " images in one request; at most " + o.queue());
            for (UploadedFile f : files) {
                try (InputStream in = f.content()) {
                    images.add(new Named(f.filename(), in.readAllBytes()));
                }
            }
        } else {
            if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("application/json") || type.startsWith("text/")) {
                throw new ApiError(415, "unsupported_media_type", "send the image itself as the body (image/jpeg, image/png, ...) "
                        + "or as a multipart/form-data field named 'image', not " + type);
            }
            byte[] body;
            try {
                body = readBounded(ctx.req().getInputStream());
            } catch (IOException | RuntimeException e) {
                throw bodyError(e, false);
            }
            if (body.length == 0) throw new ApiError(400, "bad_request", "empty body: send an image");
            images.add(new Named(null, body));
        }
        Request r = options(ctx, multipart);
        // decode every image before any is queued, so a request's errors come before its network time
        List<Object> results = new ArrayList<>();                         // per image: float[] pixels or ApiError
        decoding.acquireUninterruptibly();
        try {
            decodeAll(images, results);
        } finally {
            decoding.release();
        }
        if (!multipart && results.get(0) instanceof ApiError e) throw e;
        List<CompletableFuture<Caption>> futures = new ArrayList<>();
        try {
            for (Object x : results) futures.add(x instanceof float[] chw ? batcher.submit(chw, r.decode()) : null);
        } catch (RejectedExecutionException e) {
            for (CompletableFuture<Caption> f : futures) if (f != null) f.cancel(false);
            throw new ApiError(503, draining ? "shutting_down" : "queue_full", e.getMessage(), 1);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(o.timeoutMs());
        List<Object> answer = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            Map<String, Object> m = new LinkedHashMap<>();
            if (multipart) m.put("image", images.get(i).name());
            if (results.get(i) instanceof ApiError e) {
                metrics.errors.labelValues(e.kind).inc();
                m.put("error", errorBody(e, ctx));
            } else {
                m.putAll(CaptionRecord.of("", await(futures.get(i), deadline)).json(false, r.decode().nbest() > 1, r.attention()));
                metrics.images.inc();
            }
            answer.add(m);
        }
        ctx.json(multipart ? answer : answer.get(0));
    }

    /** Decodes each image to the encoder's input, or to the error answered for it. */
    private void decodeAll(List<Named> images, List<Object> results) {
        for (Named n : images) {
            try {
                results.add(preparation.prepare(ImageInput.of(n.name() == null ? "body" : n.name(), n.bytes())));
            } catch (ImageTooLargeException e) {
                results.add(new ApiError(413, "too_many_pixels", e.getMessage()));
            } catch (ImageLoadException e) {
                boolean unknown = e.getMessage().startsWith("not a recognised image format");
                results.add(new ApiError(unknown ? 415 : 422, unknown ? "not_an_image" : "corrupt_image", e.getMessage()));
            }
        }
    }

    private Caption await(CompletableFuture<Caption> f, long deadline) {
        try {
            return f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new ApiError(503, "timeout", "no caption within " + o.timeoutMs() + " ms; the server is overloaded", 1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(503, "shutting_down", "interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RejectedExecutionException) throw new ApiError(503, "shutting_down", e.getCause().getMessage(), 1);
            log.error("captioning failed", e.getCause());
            throw new ApiError(500, "internal", "captioning failed: " + e.getCause().getClass().getSimpleName());
        }
    }

    private record Named(String name, byte[] bytes) {
    }

    private record Request(DecodeOptions decode, boolean attention) {
    }

    /** Decoding options from the query string (and multipart form fields), checked; unknown names are refused. */
    private Request options(Context ctx, boolean multipart) {
        for (String k : ctx.queryParamMap().keySet()) {
            if (!OPTIONS.contains(k)) throw new ApiError(400, "bad_option", "unknown option '" + k + "'; known: " + new java.util.TreeSet<>(OPTIONS));
        }
        DecodeOptions d = defaults;
        int beam = intOption(ctx, multipart, "beam", d.beam(), 1, DecodeOptions.MAX_BEAM);
        int nbest = intOption(ctx, multipart, "nbest", 1, 1, DecodeOptions.MAX_BEAM);
        boolean sample = boolOption(ctx, multipart, "sample", d.sample());
        double temperature = doubleOption(ctx, multipart, "temperature", d.temperature(), 1e-3, 100);
        long seed = intOption(ctx, multipart, "seed", (int) d.seed(), 0, Integer.MAX_VALUE);
        boolean attention = boolOption(ctx, multipart, "attention", false);
        try {
            DecodeOptions.check(beam, nbest, sample, temperature, d.topK(), null);
        } catch (IllegalArgumentException e) {
            throw new ApiError(400, "bad_option", e.getMessage());
        }
        if (sample && nbest > 1) throw new ApiError(400, "bad_option", "nbest needs beam search, not sampling");   // one sample per answer
        DecodeOptions opts = new DecodeOptions(sample ? 1 : beam, nbest, d.lengthAlpha(), sample, temperature, d.topK(), d.maxLength(), d.allowUnk(),
                seed, d.blockTrigrams());
        return new Request(opts, attention && attentionModel);
    }

    private static String param(Context ctx, boolean multipart, String name) {
        String v = ctx.queryParam(name);
        if (v == null && multipart) v = ctx.formParam(name);
        return v == null ? null : v.trim();
    }

    private static int intOption(Context ctx, boolean multipart, String name, int def, int min, int max) {
        String v = param(ctx, multipart, name);
        if (v == null || v.isEmpty()) return def;
        try {
            int x = Integer.parseInt(v);
            if (x < min || x > max) throw new NumberFormatException();
            return x;
        } catch (NumberFormatException e) {
            throw new ApiError(400, "bad_option", name + " must be an integer in [" + min + ", " + max + "], got '" + v + "'");
        }
    }

    private static double doubleOption(Context ctx, boolean multipart, String name, double def, double min, double max) {
        String v = param(ctx, multipart, name);
        if (v == null || v.isEmpty()) return def;
        try {
            double x = Double.parseDouble(v);
            if (!(x >= min && x <= max)) throw new NumberFormatException();
            return x;
        } catch (NumberFormatException e) {
            throw new ApiError(400, "bad_option", name + " must be a number in [" + min + ", " + max + "], got '" + v + "'");
        }
    }

    private static boolean boolOption(Context ctx, boolean multipart, String name, boolean def) {
        String v = param(ctx, multipart, name);
        if (v == null) return def;
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "", "true", "1", "yes" -> true;                    // "?attention" alone means yes
            case "false", "0", "no" -> false;
            default -> throw new ApiError(400, "bad_option", name + " must be true or false, got '" + v + "'");
        };
    }

    /** Reads the body, refusing it (413) as soon as it passes the limit, so an oversized upload is never buffered whole. */
    private byte[] readBounded(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(buf)) > 0; ) {
            total += n;
            if (total > o.maxBytes()) throw tooLarge(-1);
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    private ApiError tooLarge(long declared) {
        return new ApiError(413, "body_too_large", (declared > 0 ? "the body is " + declared + " bytes; " : "the body is over the limit; ")
                + "at most " + o.maxBytes() + " bytes (--max-bytes)");
    }

    /**
     * What went wrong while the body was read: too slow (Jetty's minimum data rate) or stalled (the idle timeout): 408;
     * over the size limit: 413; a multipart form that does not parse: 400 with the parser's reason.
     */
    private ApiError bodyError(Throwable e, boolean multipart) {
        if (e instanceof ApiError a) return a;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.eclipse.jetty.http.BadMessageException b && b.getCode() == 408
                    || t instanceof TimeoutException || t instanceof java.net.SocketTimeoutException) {
                return new ApiError(408, "request_timeout", "the request body came too slowly (at least " + MIN_UPLOAD_BYTES_PER_S
                        + " bytes/s, no pause over " + IDLE_TIMEOUT_MS / 1000 + " s)");
            }
            if (t instanceof org.eclipse.jetty.http.BadMessageException b && b.getCode() == 413
                    || t.getMessage() != null && t.getMessage().contains("exceeds max")) {
                return tooLarge(-1);
            }
        }
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new ApiError(400, multipart ? "bad_multipart" : "bad_request",
                (multipart ? "the multipart form could not be read: " : "the body could not be read: ") + reason);
    }

    private Map<String, Object> errorBody(ApiError e, Context ctx) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", e.status);
        m.put("kind", e.kind);
        m.put("message", e.getMessage());
        m.put("request_id", requestId(ctx));
        return m;
    }

    private static String requestId(Context ctx) {
        Object id = ctx.attribute(REQUEST_ID);
        return id == null ? "-" : id.toString();
    }

    private void error(Context ctx, ApiError e) {
        metrics.errors.labelValues(e.kind).inc();
        if (e.retryAfterSeconds != null) ctx.header("Retry-After", String.valueOf(e.retryAfterSeconds));
        if (e.status == 413 || e.status == 408 || e.status == 400 && e.kind.equals("bad_multipart")) {
            ctx.header("Connection", "close");                          // the rest of the body is not read
        }
        if (e.status >= 500) log.warn("request {}: {} {} -> {} {}: {}", requestId(ctx), ctx.method(), ctx.path(), e.status, e.kind, e.getMessage());
        else log.info("request {}: {} {} -> {} {}: {}", requestId(ctx), ctx.method(), ctx.path(), e.status, e.kind, e.getMessage());
        ctx.status(e.status).json(Map.of("error", errorBody(e, ctx)));
    }

    private static String endpoint(Context ctx) {
        String p = ctx.path();
        return switch (p) {
            case "/v1/captions", "/v1/model", "/healthz", "/livez", "/readyz", "/metrics", "/openapi.json" -> p;
            default -> "static";                                     // bounded label values, whatever paths clients try
        };
    }
}
