package org.captioner.serve;

/**
 * An error answered as {@code {"error": {"status", "kind", "message"}}} with its HTTP status: the only way a
 * request fails (never a stack trace). {@code kind} is a stable word clients can switch on and /metrics counts.
 */
public final class ApiError extends RuntimeException {
    public final int status;
    public final String kind;
    public final Integer retryAfterSeconds;

    public ApiError(int status, String kind, String message) {
        this(status, kind, message, null);
    }

    /** A 503 without {@code retryAfterSeconds} says 1 s: every 503 tells the client when to come back. */
    public ApiError(int status, String kind, String message, Integer retryAfterSeconds) {
        super(message, null, false, false);                 // no stack trace: these are answers, not bugs
        this.status = status;
        this.kind = kind;
        this.retryAfterSeconds = retryAfterSeconds == null && status == 503 ? Integer.valueOf(1) : retryAfterSeconds;
    }
}
