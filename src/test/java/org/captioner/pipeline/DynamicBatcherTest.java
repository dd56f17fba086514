package org.captioner.pipeline;

import org.captioner.Caption;
import org.captioner.Captioner;
import org.captioner.ImageInput;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.encoder.NativeSetup;
import org.captioner.model.DecoderConfig;
import org.captioner.model.DecoderType;
import org.captioner.model.Decoders;
import org.captioner.model.ModelBundle;
import org.captioner.testing.SharedData;
import org.captioner.text.Vocabulary;
import org.captioner.util.Hashing;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Dynamic batching with real SqueezeNet weights and a small untrained decoder: same captions, shared calls, bounds. */
class DynamicBatcherTest {
    @TempDir
    static Path dir;
    static Captioner captioner;
    static CaptionPipeline pipeline;
    static org.captioner.decode.DecodeOptions options;
    static List<BufferedImage> photos = new ArrayList<>();

    @BeforeAll
    static void setup() throws Exception {
        NativeSetup.init();
        Path weights = SharedData.squeezenetWeights();
        Vocabulary v = Vocabulary.build(List.of("a dog runs on the grass", "a man rides a bike", "children play in water"), 1);
        var dec = Decoders.create(DecoderConfig.defaults(DecoderType.LSTM, v.size(), 512, 169, 512).withSizes(16, 32, 0, 8), 1e-3, 1);
        Path model = dir.resolve("model");
        ModelBundle.save(model, dec, v, "squeezenet", Hashing.sha256(weights), new ObjectMapper().createObjectNode());
        captioner = Captioner.builder().weights(weights).build(model);
        pipeline = CaptionPipeline.load(model, weights);
        options = pipeline.options(3, 1, null, false, 1.0, 0, 42);
        try (var s = Files.list(SharedData.require("data/coco/val2017"))) {
            for (Path p : s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(6).toList()) {
                photos.add(new org.captioner.image.ImageDecoder().decode(p));
            }
        }
    }

    @AfterAll
    static void close() {
        if (captioner != null) captioner.close();
        if (pipeline != null) pipeline.close();
    }

    float[] chw(int i) {
        try {
            return pipeline.prepare(ImageInput.of("photo", photos.get(i % photos.size())));
        } catch (org.captioner.image.ImageLoadException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void concurrentRequestsShareBatchesAndGetTheirOwnCaptions() throws Exception {
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        try (DynamicBatcher b = new DynamicBatcher(pipeline, 8, 200, 64, sizes::add)) {
            ExecutorService pool = Executors.newFixedThreadPool(12);
            List<Future<Caption>> out = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                int k = i;
                out.add(pool.submit(() -> b.submit(chw(k), options).get(60, TimeUnit.SECONDS)));
            }
            for (int i = 0; i < 24; i++) {
                assertEquals(captioner.caption(photos.get(i % photos.size())).text(), out.get(i).get().text(), "request " + i + " got another's caption");
            }
            pool.shutdown();
        }
        assertEquals(24, sizes.stream().mapToInt(Integer::intValue).sum());
        assertTrue(sizes.stream().anyMatch(s -> s > 1), "no requests were batched together: " + sizes);
        assertTrue(sizes.stream().allMatch(s -> s <= 8), "a batch over the limit: " + sizes);
    }

    @Test
    void differentOptionsAreNotMixedAndAFullQueueRefuses() throws Exception {
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        var greedy = options.withNbest(1);
        var beam = org.captioner.decode.DecodeOptions.beam(2).withNbest(2).withMaxLength(8);
        try (DynamicBatcher b = new DynamicBatcher(pipeline, 8, 300, 4, sizes::add)) {
            CompletableFuture<Caption> a = b.submit(chw(0), greedy), c = b.submit(chw(1), beam), d = b.submit(chw(2), greedy);
            assertEquals(2, c.get(60, TimeUnit.SECONDS).nbest().size(), "the beam request kept its options");
            assertEquals(1, a.get(60, TimeUnit.SECONDS).nbest().size());
            d.get(60, TimeUnit.SECONDS);
        }
        assertEquals(List.of(2, 1), sizes, "the two greedy requests in one batch, the beam one alone");
        try (DynamicBatcher slow = new DynamicBatcher(pipeline, 1, 0, 2, null)) {
            List<CompletableFuture<Caption>> fs = new ArrayList<>();
            RejectedExecutionException full = assertThrows(RejectedExecutionException.class, () -> {
                for (int i = 0; i < 50; i++) fs.add(slow.submit(chw(i), options));
            });
            assertTrue(full.getMessage().contains("queue is full"), full.getMessage());
            for (CompletableFuture<Caption> f : fs) assertNotNull(f.get(60, TimeUnit.SECONDS).text(), "accepted requests finish");
        }
        assertThrows(IllegalArgumentException.class, () -> new DynamicBatcher(pipeline, 0, 10, 4, null));
    }

    @Test
    void asyncCaptionMatchesCaption() throws Exception {
        assertEquals(captioner.caption(photos.get(3)).text(), captioner.asyncCaption(photos.get(3)).get(60, TimeUnit.SECONDS).text());
    }
}
