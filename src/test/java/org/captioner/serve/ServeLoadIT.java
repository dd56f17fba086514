package org.captioner.serve;

import org.captioner.pipeline.CaptionPipeline;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.captioner.serve.ServeFixture.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A bounded load test on loopback: 2,000 requests from 16 concurrent clients against a server whose queue is smaller
 * than the clients' burst. Every request must end as a caption or, by design, a 503 "queue_full"; none lost, none
 * failed otherwise; heap use after the run no higher than after a warm-up (flat memory).
 */
class ServeLoadIT {
    static final int REQUESTS = 2000, CLIENTS = 16;
    @TempDir
    static Path dir;
    static CaptionPipeline captioner;
    static CaptionServer server;

    @BeforeAll
    static void start() throws Exception {
        captioner = ServeFixture.captioner(ServeFixture.model(dir));
        // greedy: this measures the server, not beam search; queue 12 < 16 clients, so some requests must be refused
        server = ServeFixture.start(captioner, ServeOptions.defaults().withPort(0).withBatching(8, 5).withLimits(20 << 20, 50_000_000, 12));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (captioner != null) captioner.close();
    }

    static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    @Test
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void twoThousandRequestsFromSixteenClients() throws Exception {
        List<byte[]> images = new ArrayList<>();
        for (Path p : ServeFixture.photos(8)) {                     // the photos, shrunk: decoding is not what is tested
            BufferedImage src = ImageIO.read(p.toFile()), small = new BufferedImage(160, 120, BufferedImage.TYPE_INT_RGB);
            small.getGraphics().drawImage(src, 0, 0, 160, 120, null);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(small, "jpg", out);
            images.add(out.toByteArray());
        }
        Map<String, AtomicInteger> outcomes = new TreeMap<>();
        AtomicInteger next = new AtomicInteger();
        long[] heap = new long[2];
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            done.add(clients.submit(() -> {
                for (int i; (i = next.getAndIncrement()) < REQUESTS; ) {
                    HttpResponse<String> r = post(server, "/v1/captions?beam=1", images.get(i % images.size()), "image/jpeg");
                    String key = r.statusCode() == 200 ? "200" : r.statusCode() + " " + json(r).path("error").path("kind").asText();
                    if (r.statusCode() == 200 && json(r).path("caption").asText().isEmpty()) key = "200 without caption";
                    synchronized (outcomes) {
                        outcomes.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                    }
                    if (i == REQUESTS / 4) heap[0] = heapAfterGc();
                }
                return null;
            }));
        }
        for (Future<?> f : done) f.get();
        clients.shutdown();
        heap[1] = heapAfterGc();
        int total = outcomes.values().stream().mapToInt(AtomicInteger::get).sum();
        assertEquals(REQUESTS, total, "every request answered: " + outcomes);
        for (String k : outcomes.keySet()) assertTrue(k.equals("200") || k.equals("503 queue_full"), "unexpected outcome " + k + ": " + outcomes);
        assertTrue(outcomes.get("200").get() > REQUESTS / 2, "most requests captioned: " + outcomes);
        String metrics = get(server, "/metrics").body();
        assertTrue(metrics.contains("captioner_images_total " + outcomes.get("200").get() + ".0"), "metrics count what was answered");
        long growth = heap[1] - heap[0];
        System.out.printf("load test: %s; heap after GC %.1f MB at request %d, %.1f MB at the end%n", outcomes, heap[0] / 1e6, REQUESTS / 4, heap[1] / 1e6);
        assertTrue(growth < 64_000_000, "heap grew " + growth / 1e6 + " MB over " + REQUESTS * 3 / 4 + " requests");
    }
}
