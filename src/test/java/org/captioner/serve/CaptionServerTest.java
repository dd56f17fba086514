package org.captioner.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.captioner.pipeline.CaptionPipeline;
import org.captioner.cli.Main;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;

import static org.captioner.serve.ServeFixture.*;
import static org.junit.jupiter.api.Assertions.*;

/** The HTTP service on a free loopback port: every endpoint, several images, every limit with a crafted input. */
class CaptionServerTest {
    @TempDir
    static Path dir;
    static Path model;
    static CaptionPipeline captioner;
    static CaptionServer server;
    static List<Path> photos;

    @BeforeAll
    static void start() throws Exception {
        model = ServeFixture.model(dir);
        captioner = ServeFixture.captioner(model);
        photos = ServeFixture.photos(3);
        server = ServeFixture.start(captioner, ServeOptions.defaults().withPort(0).withLimits(256 * 1024, 4_000_000, 64));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (captioner != null) captioner.close();
    }

    static byte[] photo(int i) throws IOException {
        return Files.readAllBytes(photos.get(i));
    }

    @Test
    void healthModelOpenapiAndPage() throws Exception {
        HttpResponse<String> h = get(server, "/healthz");
        assertEquals(200, h.statusCode());
        assertEquals("ready", json(h).get("status").asText());

        JsonNode m = json(get(server, "/v1/model"));
        assertEquals("attention", m.get("decoder").asText());
        assertEquals("squeezenet", m.get("encoder").asText());
        assertEquals(64, m.get("encoder_weights_sha256").asText().length());
        assertEquals("serve test fixture", m.get("training").get("data").asText());

        JsonNode api = json(get(server, "/openapi.json"));
        assertEquals("3.0.3", api.get("openapi").asText());
        for (String p : List.of("/v1/captions", "/v1/model", "/healthz", "/metrics")) assertTrue(api.get("paths").has(p), p);

        HttpResponse<String> page = get(server, "/");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("<input type=\"file\""), "the page has a file input");
        assertEquals(200, get(server, "/app.js").statusCode());

        HttpResponse<String> missing = get(server, "/v2/nothing");
        assertEquals(404, missing.statusCode());
        assertEquals("not_found", json(missing).get("error").get("kind").asText());
    }

    @Test
    void captionsEqualTheCliForTheSameImagesAndOptions() throws Exception {
        Path in = Files.createDirectories(dir.resolve("cli-in"));
        for (Path p : photos) Files.copy(p, in.resolve(p.getFileName()));
        Path out = dir.resolve("cli.jsonl");
        int rc = Main.commandLine().execute("caption", "--model", model.toString(), "--weights", org.captioner.testing.SharedData.squeezenetWeights().toString(),
                "--beam", "3", "--nbest", "2", "--attention", "--no-progress", "--out", out.toString(), in.toString());
        assertEquals(0, rc);
        List<String> lines = Files.readAllLines(out);
        assertEquals(photos.size(), lines.size());
        for (int i = 0; i < photos.size(); i++) {
            JsonNode cli = JSON.readTree(lines.get(i));
            JsonNode http = json(post(server, "/v1/captions?beam=3&nbest=2&attention=true", photo(i), "image/jpeg"));
            assertEquals(cli.get("caption").asText(), http.get("caption").asText(), photos.get(i).toString());
            assertEquals(cli.get("score").asDouble(), http.get("score").asDouble(), 1e-5);  // float sums in another batch
            assertEquals(cli.get("nbest").size(), http.get("nbest").size());
            for (int k = 0; k < cli.get("nbest").size(); k++) assertEquals(cli.get("nbest").get(k).get("caption"), http.get("nbest").get(k).get("caption"));
            assertEquals(cli.get("attention").get("words"), http.get("attention").get("words"));
            assertEquals("[13,13]", http.get("attention").get("grid").toString());
            assertEquals(cli.get("attention").get("peak_cells"), http.get("attention").get("peak_cells"));
            assertEquals(169, http.get("attention").get("maps").get(0).size());
        }
        // without attention=true there are no maps
        assertFalse(json(post(server, "/v1/captions", photo(0), "image/jpeg")).has("attention"));
    }

    @Test
    void severalImagesInOneMultipartRequestComeBackInOrder() throws Exception {
        Multipart mp = new Multipart().field("beam", "2")
                .file("image", "b.jpg", "image/jpeg", photo(1))
                .file("image", "notes.txt", "text/plain", "not an image".getBytes(StandardCharsets.UTF_8))
                .file("image", "a.jpg", "image/jpeg", photo(0));
        HttpResponse<String> r = post(server, "/v1/captions", mp.bytes(), mp.type());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode list = json(r);
        assertEquals(3, list.size());
        assertEquals("b.jpg", list.get(0).get("image").asText());
        assertEquals("notes.txt", list.get(1).get("image").asText());
        assertEquals("not_an_image", list.get(1).get("error").get("kind").asText());
        assertEquals(json(post(server, "/v1/captions?beam=2", photo(1), "image/jpeg")).get("caption"), list.get(0).get("caption"));
        assertEquals(json(post(server, "/v1/captions?beam=2", photo(0), "image/jpeg")).get("caption"), list.get(2).get("caption"),
                "the multipart form field beam=2 applies");
    }

    static String kind(HttpResponse<String> r) throws IOException {
        return json(r).get("error").get("kind").asText();
    }

    @Test
    void badInputGetsClearJsonErrors() throws Exception {
        HttpResponse<String> text = post(server, "/v1/captions", "hello".getBytes(StandardCharsets.UTF_8), "image/jpeg");
        assertEquals(415, text.statusCode());
        assertEquals("not_an_image", kind(text));

        byte[] jpeg = photo(0);
        HttpResponse<String> cut = post(server, "/v1/captions", Arrays.copyOf(jpeg, jpeg.length / 2), "image/jpeg");
        assertEquals(422, cut.statusCode(), cut.body());
        assertEquals("corrupt_image", kind(cut));

        HttpResponse<String> empty = post(server, "/v1/captions", new byte[0], "image/jpeg");
        assertEquals(400, empty.statusCode());

        HttpResponse<String> form = post(server, "/v1/captions", "a=b".getBytes(StandardCharsets.UTF_8), "application/x-www-form-urlencoded");
        assertEquals(415, form.statusCode());

        for (String q : List.of("beam=0", "beam=abc", "beam=2&nbest=3", "temperature=-1", "sample=maybe", "beems=3", "sample=true&nbest=2")) {
            HttpResponse<String> r = post(server, "/v1/captions?" + q, jpeg, "image/jpeg");
            assertEquals(400, r.statusCode(), q + ": " + r.body());
            assertEquals("bad_option", kind(r), q);
            assertFalse(r.body().contains("Exception"), "no stack trace: " + r.body());
        }
        HttpResponse<String> noField = post(server, "/v1/captions", new Multipart().field("beam", "1").bytes(), new Multipart().type());
        assertEquals(400, noField.statusCode());
    }

    @Test
    void oversizedBodiesAreRefusedBeforeBeingRead() throws Exception {
        byte[] big = new byte[300 * 1024];                            // over the 256 KB limit
        System.arraycopy(photo(0), 0, big, 0, Math.min(big.length, photo(0).length));
        // declared length over the limit: answered from the headers alone, before a byte of the body is sent (the
        // client asks first with Expect: 100-continue, as curl does for large bodies)
        try (java.net.Socket sock = new java.net.Socket("127.0.0.1", server.port())) {
            sock.setSoTimeout(20_000);
            sock.getOutputStream().write(("POST /v1/captions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nExpect: 100-continue\r\nContent-Length: "
                    + big.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            sock.getOutputStream().flush();
            StringBuilder answer = new StringBuilder();
            byte[] buf = new byte[4096];
            for (int n; !answer.toString().endsWith("}}") && (n = sock.getInputStream().read(buf)) > 0; ) {
                answer.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
            assertTrue(answer.toString().startsWith("HTTP/1.1 413"), answer.toString());
            assertTrue(answer.toString().contains("\"kind\":\"body_too_large\""), answer.toString());
        }
        // no declared length (chunked): refused while reading, once past the limit
        HttpResponse<String> chunked = HTTP.send(HttpRequest.newBuilder(uri(server, "/v1/captions")).header("Content-Type", "image/jpeg")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(413, chunked.statusCode());
        assertEquals("body_too_large", kind(chunked));
        // the same through a multipart form
        Multipart mp = new Multipart().file("image", "big.jpg", "image/jpeg", big);
        HttpResponse<String> multi = HTTP.send(HttpRequest.newBuilder(uri(server, "/v1/captions")).header("Content-Type", mp.type())
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(mp.bytes()))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(413, multi.statusCode(), multi.body());
        assertEquals(200, get(server, "/healthz").statusCode(), "still up");
    }

    /** A 100,000 x 100,000 PNG in a few dozen bytes: refused from its header, its pixels never decoded. */
    static byte[] bombPng() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(ihdr);
        d.writeInt(100_000);
        d.writeInt(100_000);
        d.write(new byte[] {8, 2, 0, 0, 0});                       // 8-bit RGB
        chunk(out, "IHDR", ihdr.toByteArray());
        chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        d.writeInt(data.length);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        d.write(t);
        d.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        d.writeInt((int) crc.getValue());
    }

    @Test
    void decompressionBombIsRefusedFromItsHeader() throws Exception {
        byte[] bomb = bombPng();
        assertTrue(bomb.length < 100);
        HttpResponse<String> r = post(server, "/v1/captions", bomb, "image/png");
        assertEquals(413, r.statusCode(), r.body());
        assertEquals("too_many_pixels", kind(r));
        assertTrue(json(r).get("error").get("message").asText().contains("100000x100000"));
    }

    @Test
    void tokenIsRequiredWhenConfigured() throws Exception {
        try (CaptionServer s = ServeFixture.start(captioner, ServeOptions.defaults().withPort(0).withToken("s3cret-token"))) {
            assertEquals(401, post(s, "/v1/captions", photo(0), "image/jpeg").statusCode());
            HttpResponse<String> wrong = post(s, "/v1/captions", photo(0), "image/jpeg", "Authorization", "Bearer s3cret-tokem");
            assertEquals(401, wrong.statusCode());
            assertEquals("unauthorized", kind(wrong));
            assertEquals(401, get(s, "/metrics").statusCode());
            assertEquals(200, post(s, "/v1/captions", photo(0), "image/jpeg", "Authorization", "Bearer s3cret-token").statusCode());
            assertEquals(200, get(s, "/healthz").statusCode(), "health stays open for probes");
        }
    }

    @Test
    void fullQueueAnswers503WithRetryAfter() throws Exception {
        // one image at a time, one waiting: a burst of 12 must overflow it
        try (CaptionServer s = ServeFixture.start(captioner, ServeOptions.defaults().withPort(0).withBatching(1, 0).withLimits(20 << 20, 50_000_000, 1))) {
            ExecutorService pool = Executors.newFixedThreadPool(12);
            List<Future<HttpResponse<String>>> rs = new ArrayList<>();
            byte[] jpeg = photo(0);
            for (int i = 0; i < 12; i++) rs.add(pool.submit(() -> post(s, "/v1/captions", jpeg, "image/jpeg")));
            int ok = 0, full = 0;
            for (Future<HttpResponse<String>> f : rs) {
                HttpResponse<String> r = f.get();
                if (r.statusCode() == 200) ok++;
                else {
                    assertEquals(503, r.statusCode(), r.body());
                    assertEquals("queue_full", kind(r));
                    assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
                    full++;
                }
            }
            pool.shutdown();
            assertTrue(ok >= 1 && full >= 1, ok + " captioned, " + full + " refused");
            String metrics = get(s, "/metrics").body();
            assertTrue(metrics.contains("captioner_errors_total{kind=\"queue_full\"} " + full + ".0"), metrics);
        }
    }

    @Test
    void aCaptionNotReadyInTimeIs503() throws Exception {
        // the batcher holds a lone request for 3 s, longer than the 200 ms the server may wait for its caption
        try (CaptionServer s = ServeFixture.start(captioner, ServeOptions.defaults().withPort(0).withBatching(16, 3000).withTimeoutMs(200))) {
            HttpResponse<String> r = post(s, "/v1/captions", photo(0), "image/jpeg");
            assertEquals(503, r.statusCode(), r.body());
            assertEquals("timeout", kind(r));
            assertTrue(r.headers().firstValue("Retry-After").isPresent());
        }
    }

    @Test
    void metricsCountRequestsErrorsAndBatches() throws Exception {
        post(server, "/v1/captions", photo(0), "image/jpeg");
        post(server, "/v1/captions", "x".getBytes(StandardCharsets.UTF_8), "image/jpeg");
        HttpResponse<String> m = get(server, "/metrics");
        assertEquals(200, m.statusCode());
        String t = m.body();
        assertTrue(t.contains("captioner_requests_total{endpoint=\"/v1/captions\",status=\"200\"}"), t);
        assertTrue(t.contains("captioner_errors_total{kind=\"not_an_image\"}"), t);
        assertTrue(t.contains("captioner_batch_size_bucket"), t);
        assertTrue(t.contains("captioner_request_duration_seconds_bucket"), t);
        assertTrue(t.contains("captioner_queue_depth"), t);
    }

    @Test
    void gracefulShutdownFinishesInFlightRequestsAndRefusesNewOnes() throws Exception {
        // a long batching wait keeps the first request in flight while the server is asked to stop
        CaptionServer s = ServeFixture.start(captioner, ServeOptions.defaults().withPort(0).withBatching(16, 3000));
        java.net.URI health = uri(s, "/healthz");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        Future<HttpResponse<String>> inFlight = pool.submit(() -> post(s, "/v1/captions", photo(0), "image/jpeg"));
        long t0 = System.currentTimeMillis();
        while (s.inFlight() == 0 && System.currentTimeMillis() - t0 < 10_000) Thread.sleep(10);
        assertEquals(1, s.inFlight());
        Future<?> stopping = pool.submit(() -> s.shutdown(30_000));
        Thread.sleep(200);
        HttpResponse<String> late = post(s, "/v1/captions", photo(1), "image/jpeg");
        assertEquals(503, late.statusCode());
        assertEquals("shutting_down", kind(late));
        HttpResponse<String> first = inFlight.get();
        assertEquals(200, first.statusCode(), first.body());
        stopping.get();
        pool.shutdown();
        assertThrows(IOException.class, () -> HTTP.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString()), "stopped");
    }

    @Test
    void optionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> ServeOptions.defaults().withBatching(0, 10));
        assertThrows(IllegalArgumentException.class, () -> ServeOptions.defaults().withLimits(10, 100, 1));
        assertThrows(IllegalArgumentException.class, () -> ServeOptions.defaults().withToken(" "));
    }
}
