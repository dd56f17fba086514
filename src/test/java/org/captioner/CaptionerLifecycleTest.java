package org.captioner;

import org.captioner.testing.SharedData;
import org.captioner.testing.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The embedded API's lifecycle: batching options, a full queue as a failed future, close() and what follows it. */
class CaptionerLifecycleTest {
    @TempDir
    Path dir;

    Captioner.Builder builder() {
        return Captioner.builder().weights(SharedData.squeezenetWeights());
    }

    BufferedImage photo() throws Exception {
        try (var s = Files.list(SharedData.require("data/coco/val2017"))) {
            return ImageIO.read(s.filter(p -> p.toString().endsWith(".jpg")).sorted().findFirst().orElseThrow().toFile());
        }
    }

    @Test
    void aFullQueueFailsTheFutureAndCloseRefusesLaterCalls() throws Exception {
        Path model = TinyModels.squeezenetAttention(dir, "lifecycle test");
        BufferedImage img = photo();
        Captioner c = builder().batching(1, 0, 1).build(model);
        String expected = c.caption(img).text();
        List<CompletableFuture<Caption>> futures = new ArrayList<>();
        for (int i = 0; i < 20; i++) futures.add(c.asyncCaption(img));      // never throws: a full queue fails the future
        int refused = 0;
        for (CompletableFuture<Caption> f : futures) {
            try {
                assertEquals(expected, f.get(120, TimeUnit.SECONDS).text(), "a batched caption equals the direct one");
            } catch (ExecutionException e) {
                assertInstanceOf(RejectedExecutionException.class, e.getCause());
                refused++;
            }
        }
        assertTrue(refused > 0 && refused < 20, "a queue of 1 refuses some of 20 requests made at once: " + refused);
        c.close();
        assertThrows(IllegalStateException.class, () -> c.caption(img));
        assertThrows(IllegalStateException.class, () -> c.asyncCaption(img));
        c.close();                                                         // twice is harmless
    }

    @Test
    void batchingOptionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> Captioner.builder().batching(0, 10, 10));
        assertThrows(IllegalArgumentException.class, () -> Captioner.builder().batching(16, -1, 10));
        assertThrows(IllegalArgumentException.class, () -> Captioner.builder().batching(16, 10, 0));
    }
}
