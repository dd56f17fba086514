package org.captioner.features;

import org.captioner.encoder.EncoderType;
import org.captioner.encoder.Encoders;
import org.captioner.encoder.ImageEncoder;
import org.captioner.image.ImageFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class FeatureExtractorTest {
    @TempDir
    Path dir;
    static ImageEncoder encoder;

    @BeforeAll
    static void encoder() {
        encoder = Encoders.random(EncoderType.SQUEEZENET);
    }

    Path images(int n) throws Exception {
        Path in = Files.createDirectories(dir.resolve("in"));
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(60 + i, 40, BufferedImage.TYPE_INT_RGB);
            img.setRGB(i, 3, 0xFF8800);
            ImageIO.write(img, i % 2 == 0 ? "jpg" : "png", in.resolve(String.format("img%02d.%s", i, i % 2 == 0 ? "jpg" : "png")).toFile());
        }
        Files.writeString(in.resolve("broken.jpg"), "not really a jpeg");
        Files.writeString(in.resolve("README.txt"), "ignored: not an image extension");
        return in;
    }

    @Test
    void writesNpyNamesErrorsAndResumes() throws Exception {
        Path in = images(5);
        Path out = dir.resolve("out");
        List<org.captioner.ImageInput> inputs = ImageFiles.collect(List.of(in), false);
        assertEquals(6, inputs.size());
        FeatureExtractor fx = new FeatureExtractor(encoder, NpyWriter.Dtype.FLOAT16, 2, 2, false);
        FeatureExtractor.Summary s = fx.run(inputs, out);
        assertEquals(5, s.written());
        assertEquals(1, s.failed());
        assertEquals(List.of("img00.jpg", "img01.png", "img02.jpg", "img03.png", "img04.jpg"), Files.readAllLines(out.resolve("names.txt")));
        String errors = Files.readString(out.resolve("errors.jsonl"));
        assertTrue(errors.contains("\"image\":\"broken.jpg\"") && errors.contains("not a recognised image format"), errors);
        try (FeatureSet fs = new FeatureSet(out)) {
            assertEquals("squeezenet", fs.meta().encoder());
            assertEquals(5, fs.meta().images());
            assertEquals(512, fs.vector(4).length);
            assertEquals(169 * 512, fs.grid(4).length);
            assertEquals(3, fs.row("img03.png"));
        }
        float[] before;
        try (NpyReader r = new NpyReader(out.resolve("vectors.npy"))) {
            assertArrayEquals(new long[] {5, 512}, r.header().shape());
            before = r.read(3, 1);
        }
        try (NpyReader r = new NpyReader(out.resolve("grid.npy"))) {
            assertArrayEquals(new long[] {5, 169, 512}, r.header().shape());
            assertEquals("<f2", r.header().descr());
        }

        // Rerun: nothing new to encode.
        assertEquals(0, fx.run(inputs, out).written());

        // Simulate a crash that lost the last two names (and left a torn line): they are encoded again, the rest kept.
        List<String> names = Files.readAllLines(out.resolve("names.txt"));
        Files.writeString(out.resolve("names.txt"), String.join("\n", names.subList(0, 3)) + "\nimg0");
        FeatureExtractor.Summary again = fx.run(inputs, out);
        assertEquals(3, again.alreadyDone());
        assertEquals(2, again.written());
        assertEquals(names, Files.readAllLines(out.resolve("names.txt")));
        try (NpyReader r = new NpyReader(out.resolve("vectors.npy"))) {
            assertEquals(5, r.rows());
            assertArrayEquals(before, r.read(3, 1), 1e-5f);
        }
    }

    @Test
    void refusesToMixEncoders() throws Exception {
        Path in = images(1);
        Path out = dir.resolve("out");
        List<org.captioner.ImageInput> inputs = ImageFiles.collect(List.of(in), false);
        new FeatureExtractor(encoder, NpyWriter.Dtype.FLOAT32, 2, 1, false).run(inputs, out);
        Exception e = assertThrows(java.io.IOException.class,
                () -> new FeatureExtractor(encoder, NpyWriter.Dtype.FLOAT16, 2, 1, false).run(inputs, out));
        assertTrue(e.getMessage().contains("Use another --out"), e.getMessage());
    }
}
