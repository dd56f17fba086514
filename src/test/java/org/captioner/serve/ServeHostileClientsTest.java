package org.captioner.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.captioner.pipeline.CaptionPipeline;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code serve} as a hostile client sees it, on loopback: uploads that trickle or stall cannot hold the server
 * (a normal request meanwhile is answered), a broken multipart form is a 400 with its reason, every error carries a
 * request id, every 503 a Retry-After, and liveness and readiness have their own endpoints.
 */
class ServeHostileClientsTest {
    @TempDir
    static Path dir;
    static CaptionPipeline captioner;
    static CaptionServer server;
    static byte[] photo;

    @BeforeAll
    static void start() throws Exception {
        captioner = ServeFixture.captioner(ServeFixture.model(dir));
        server = ServeFixture.start(captioner, ServeOptions.defaults().withPort(0));
        photo = Files.readAllBytes(ServeFixture.photos(1).get(0));
        assertEquals(200, ServeFixture.post(server, "/v1/captions", photo, "image/jpeg").statusCode(), "warm-up");
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (captioner != null) captioner.close();
    }

    /** A client that sends its headers at once, then its body one byte every {@code pauseMs}; returns the status line. */
    static String trickle(int pauseMs, int maxBytes) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/captions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: " + photo.length
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            try {
                for (int i = 0; i < maxBytes && in.available() == 0; i++) {
                    out.write(photo[i]);
                    out.flush();
                    Thread.sleep(pauseMs);
                }
            } catch (java.io.IOException closedByServer) {
                // the server gave up on us: read what it answered
            }
            byte[] answer = in.readNBytes(4096);
            String text = new String(answer, StandardCharsets.ISO_8859_1);
            return text.isEmpty() ? "(closed without an answer)" : text.lines().findFirst().orElse("");
        }
    }

    @Test
    void tricklingUploadsDoNotStarveNormalRequests() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(40);
        try {
            List<Future<String>> slow = new ArrayList<>();
            for (int i = 0; i < 40; i++) slow.add(pool.submit(() -> trickle(1000, 30)));
            Thread.sleep(1500);                                       // all 40 connected and trickling
            long t0 = System.nanoTime();
            HttpResponse<String> normal = ServeFixture.post(server, "/v1/captions", photo, "image/jpeg");
            double secs = (System.nanoTime() - t0) / 1e9;
            assertEquals(200, normal.statusCode(), normal.body());
            assertTrue(secs < 5, "a normal request beside 40 trickling uploads took " + secs + " s");
            for (Future<String> f : slow) {
                String status = f.get(60, TimeUnit.SECONDS);
                assertTrue(status.startsWith("HTTP/1.1 408") || status.startsWith("(closed"), "a trickling upload is refused: " + status);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aStalledUploadGets408WithinTheIdleTimeout() throws Exception {
        long t0 = System.nanoTime();
        String status = trickle(CaptionServer.IDLE_TIMEOUT_MS + 5_000, 2);    // two bytes, then silence
        double secs = (System.nanoTime() - t0) / 1e9;
        assertTrue(status.startsWith("HTTP/1.1 408") || status.startsWith("(closed"), status);
        assertTrue(secs < CaptionServer.IDLE_TIMEOUT_MS / 1000.0 + 10, "dropped after " + secs + " s");
    }

    @Test
    void malformedMultipartIs400WithItsReasonAndARequestId() throws Exception {
        String type = "multipart/form-data; boundary=----nothing-like-this";
        HttpResponse<String> r = ServeFixture.post(server, "/v1/captions", "--wrong\r\nnot a form at all".getBytes(StandardCharsets.UTF_8), type);
        assertEquals(400, r.statusCode(), r.body());
        JsonNode e = ServeFixture.json(r).get("error");
        assertEquals("bad_multipart", e.get("kind").asText());
        assertTrue(e.get("message").asText().startsWith("the multipart form could not be read: "), r.body());
        String id = e.get("request_id").asText();
        assertFalse(id.isBlank() || id.equals("-"), r.body());
        assertEquals(id, r.headers().firstValue("X-Request-Id").orElse(null), "the header names the same request");
        HttpResponse<String> other = ServeFixture.get(server, "/no/such/path");
        assertNotEquals(id, ServeFixture.json(other).get("error").get("request_id").asText(), "one id per request");
    }

    @Test
    void livenessAndReadinessHaveTheirOwnEndpoints() throws Exception {
        HttpResponse<String> live = ServeFixture.get(server, "/livez");
        assertEquals(200, live.statusCode());
        assertEquals("alive", ServeFixture.json(live).get("status").asText());
        HttpResponse<String> ready = ServeFixture.get(server, "/readyz");
        assertEquals(200, ready.statusCode());
        assertEquals("ready", ServeFixture.json(ready).get("status").asText());
        assertEquals(200, ServeFixture.get(server, "/healthz").statusCode(), "kept");
    }

    @Test
    void a503SaysWhenToComeBack() throws Exception {
        try (CaptionPipeline c = ServeFixture.captioner(ServeFixture.model(dir.resolve("tiny-queue")));
             CaptionServer s = ServeFixture.start(c, ServeOptions.defaults().withPort(0).withLimits(20 * ServeOptions.MB, 50_000_000L, 1)
                     .withBatching(1, 0))) {
            ExecutorService pool = Executors.newFixedThreadPool(6);
            try {
                List<Future<HttpResponse<String>>> answers = new ArrayList<>();
                for (int i = 0; i < 6; i++) answers.add(pool.submit(() -> ServeFixture.post(s, "/v1/captions", photo, "image/jpeg")));
                int full = 0;
                for (Future<HttpResponse<String>> f : answers) {
                    HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
                    if (r.statusCode() == 503) {
                        full++;
                        assertTrue(r.headers().firstValue("Retry-After").isPresent(), r.body());
                        assertNotNull(ServeFixture.json(r).get("error").get("request_id"), r.body());
                    } else {
                        assertEquals(200, r.statusCode(), r.body());
                    }
                }
                assertTrue(full > 0, "a queue of 1 refuses some of 6 requests at once");
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
