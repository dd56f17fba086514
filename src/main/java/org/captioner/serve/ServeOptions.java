package org.captioner.serve;

/**
 * The service's limits and batching settings (the {@code serve} command's options).
 *
 * @param host        interface to listen on (127.0.0.1 unless told otherwise: a model server is not public by default)
 * @param port        TCP port (0: any free port)
 * @param maxBatch    most images in one network call
 * @param maxWaitMs   longest a request waits for others to join its batch
 * @param maxBytes    largest request body; larger ones get 413 before they are read
 * @param maxPixels   largest width x height an image header may declare (decompression bombs get 413 before decoding)
 * @param queue       requests that may wait for the network; more get 503 with Retry-After
 * @param threads     HTTP worker threads (they read and decode images in parallel; the networks run one batch at a time)
 * @param timeoutMs   longest a request may wait for its caption (503 after)
 * @param token       bearer token required on /v1 and /metrics, or null for none
 */
public record ServeOptions(String host, int port, int maxBatch, int maxWaitMs, long maxBytes, long maxPixels, int queue,
                           int threads, int timeoutMs, String token) {
    public static final long MB = 1L << 20;

    public ServeOptions {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("host must not be empty");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        if (maxBatch < 1 || maxBatch > 256) throw new IllegalArgumentException("max batch must be in [1, 256], got " + maxBatch);
        if (maxWaitMs < 0 || maxWaitMs > 10_000) throw new IllegalArgumentException("max wait must be in [0, 10000] ms, got " + maxWaitMs);
        if (maxBytes < 1024 || maxBytes > 1024 * MB) throw new IllegalArgumentException("max bytes must be in [1 KB, 1 GB], got " + maxBytes);
        if (maxPixels < 1 || maxPixels > 1_000_000_000L) throw new IllegalArgumentException("max pixels must be in [1, 1e9], got " + maxPixels);
        if (queue < 1 || queue > 100_000) throw new IllegalArgumentException("queue must be in [1, 100000], got " + queue);
        if (threads < 2 || threads > 1024) throw new IllegalArgumentException("threads must be in [2, 1024], got " + threads);
        if (timeoutMs < 100 || timeoutMs > 3_600_000) throw new IllegalArgumentException("timeout must be in [100, 3600000] ms, got " + timeoutMs);
        if (token != null && token.isBlank()) throw new IllegalArgumentException("the token must not be empty");
    }

    /** The defaults of {@code captioner serve}. */
    public static ServeOptions defaults() {
        return new ServeOptions("127.0.0.1", 8080, 16, 10, 20 * MB, 50_000_000L, 64, 16, 60_000, null);
    }

    public ServeOptions withPort(int p) {
        return new ServeOptions(host, p, maxBatch, maxWaitMs, maxBytes, maxPixels, queue, threads, timeoutMs, token);
    }

    public ServeOptions withLimits(long bytes, long pixels, int q) {
        return new ServeOptions(host, port, maxBatch, maxWaitMs, bytes, pixels, q, threads, timeoutMs, token);
    }

    public ServeOptions withBatching(int batch, int waitMs) {
        return new ServeOptions(host, port, batch, waitMs, maxBytes, maxPixels, queue, threads, timeoutMs, token);
    }

    public ServeOptions withToken(String t) {
        return new ServeOptions(host, port, maxBatch, maxWaitMs, maxBytes, maxPixels, queue, threads, timeoutMs, t);
    }

    public ServeOptions withTimeoutMs(int ms) {
        return new ServeOptions(host, port, maxBatch, maxWaitMs, maxBytes, maxPixels, queue, threads, ms, token);
    }
}
