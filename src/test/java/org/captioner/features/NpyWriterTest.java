package org.captioner.features;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.*;

class NpyWriterTest {
    @TempDir
    Path dir;

    @Test
    void headerIsStandardNpyAndRowsAppend() throws Exception {
        Path f = dir.resolve("a.npy");
        try (NpyWriter w = NpyWriter.open(f, NpyWriter.Dtype.FLOAT32, new long[] {2, 3}, Long.MAX_VALUE)) {
            w.append(new float[] {1, 2, 3, 4, 5, 6});
            w.append(new float[] {7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18});
        }
        byte[] bytes = Files.readAllBytes(f);
        assertEquals(128 + 18 * 4, bytes.length);
        String header = new String(bytes, 10, 118, StandardCharsets.US_ASCII);
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2, 3), }"), header);
        assertEquals('\n', header.charAt(header.length() - 1));
        assertEquals(0, 128 % 64, "npy requires the data to start 64-byte aligned");
        try (NpyReader r = new NpyReader(f)) {
            assertEquals(3, r.rows());
            assertArrayEquals(new float[] {7, 8, 9, 10, 11, 12}, r.read(1, 1));
        }
    }

    @Test
    void float16RoundTripsAndResumeCutsPartialRows() throws Exception {
        Path f = dir.resolve("h.npy");
        try (NpyWriter w = NpyWriter.open(f, NpyWriter.Dtype.FLOAT16, new long[] {4}, Long.MAX_VALUE)) {
            w.append(new float[] {0.5f, -2f, 1000f, 3.14159f, 1, 2, 3, 4});
        }
        // A crash mid-row leaves stray bytes; reopening keeps the complete rows only.
        Files.write(f, new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
        try (NpyWriter w = NpyWriter.open(f, NpyWriter.Dtype.FLOAT16, new long[] {4}, Long.MAX_VALUE)) {
            assertEquals(2, w.rows());
        }
        try (NpyReader r = new NpyReader(f)) {
            float[] row = r.read(0, 1);
            assertEquals(0.5f, row[0]);
            assertEquals(-2f, row[1]);
            assertEquals(1000f, row[2]);
            assertEquals(3.14159f, row[3], 2e-3);
        }
        // keepRows trims to what the caller knows is complete elsewhere (names.txt).
        try (NpyWriter w = NpyWriter.open(f, NpyWriter.Dtype.FLOAT16, new long[] {4}, 1)) {
            assertEquals(1, w.rows());
        }
        assertEquals(128 + 8, Files.size(f));
    }

    @Test
    void wrongRowShapeIsRefused() throws Exception {
        Path f = dir.resolve("s.npy");
        try (NpyWriter w = NpyWriter.open(f, NpyWriter.Dtype.FLOAT32, new long[] {4}, Long.MAX_VALUE)) {
            w.append(new float[4]);
        }
        Exception e = assertThrows(java.io.IOException.class, () -> NpyWriter.open(f, NpyWriter.Dtype.FLOAT32, new long[] {5}, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("another output folder"));
    }

    @Test
    void halfFloatConversion() {
        assertEquals((short) 0x3C00, HalfFloat.fromFloat(1f));
        assertEquals((short) 0xC000, HalfFloat.fromFloat(-2f));
        assertEquals((short) 0x7BFF, HalfFloat.fromFloat(65504f));
        assertEquals((short) 0x7C00, HalfFloat.fromFloat(1e6f));
        assertEquals((short) 0x0001, HalfFloat.fromFloat(5.96e-8f));
        assertEquals((short) 0x3555, HalfFloat.fromFloat(1f / 3));
        for (int h = 0; h < 0x7C00; h += 7) assertEquals((short) h, HalfFloat.fromFloat(HalfFloat.toFloat((short) h)));
    }
}
