package org.captioner.train;

import org.captioner.features.FeatureExtractor;
import org.captioner.features.FeatureSet;
import org.captioner.features.HalfFloat;
import org.captioner.features.NpyReader;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The feature grids of a feature set, read from its {@code grid.npy} through memory maps: the operating system's page
 * cache holds what training reads, not the Java heap, so memory does not grow with the data set (COCO's 123,287 x
 * 49 x 1,280 float16 grids are 15.4 GB on disk). A {@link MappedByteBuffer} spans at most 2 GB, so the file is mapped
 * in chunks of whole rows; absolute reads leave the buffers' positions alone, so concurrent readers are safe.
 */
public final class FeatureGrids {
    private static final long CHUNK_BYTES = 1L << 30;

    private final MappedByteBuffer[] chunks;
    private final long rowsPerChunk;
    private final long rows;
    private final int cells, channels;
    private final boolean half;            // "<f2" (float16, the default) or "<f4"

    /** @param neededRows the rows that will be read (checked to exist: a missing row fails here, not mid-epoch) */
    public FeatureGrids(FeatureSet fs, int[] neededRows) throws IOException {
        this(fs, neededRows, CHUNK_BYTES);
    }

    /** With maps of at most {@code chunkBytes} (tests use small ones to cross chunk boundaries). */
    FeatureGrids(FeatureSet fs, int[] neededRows, long chunkBytes) throws IOException {
        this.cells = fs.meta().gridSide() * fs.meta().gridSide();
        this.channels = fs.meta().gridChannels();
        Path file = fs.dir().resolve(FeatureExtractor.GRID);
        NpyReader.Header h = NpyReader.readHeader(file);
        this.half = switch (h.descr()) {
            case "<f2" -> true;
            case "<f4" -> false;
            default -> throw new IOException(file + ": grids must be float16 or float32 (little-endian), not " + h.descr());
        };
        long per = (long) cells * channels;
        if (h.rowElems() != per) throw new IOException(file + ": rows of " + h.rowElems() + " values, meta.json says " + cells + " x " + channels);
        this.rows = Math.min(h.shape()[0], fs.names().size());
        long rowBytes = per * (half ? 2 : 4);
        this.rowsPerChunk = Math.max(1, chunkBytes / rowBytes);
        int n = (int) ((rows + rowsPerChunk - 1) / rowsPerChunk);
        this.chunks = new MappedByteBuffer[n];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (int c = 0; c < n; c++) {
                long first = c * rowsPerChunk, count = Math.min(rowsPerChunk, rows - first);
                chunks[c] = ch.map(FileChannel.MapMode.READ_ONLY, h.dataOffset() + first * rowBytes, count * rowBytes);
                chunks[c].order(ByteOrder.LITTLE_ENDIAN);
            }
        }
        for (int r : neededRows) {
            if (r < 0 || r >= rows) throw new IOException(file + " has no feature row " + r + " (it holds " + rows + ")");
        }
    }

    public int cells() {
        return cells;
    }

    public int channels() {
        return channels;
    }

    /** [B, cells, C] float32 for the given feature rows. */
    public INDArray rows(int[] featureRows) {
        int per = cells * channels;
        float[] out = new float[featureRows.length * per];
        for (int i = 0; i < featureRows.length; i++) {
            int r = featureRows[i];
            if (r < 0 || r >= rows) throw new IllegalArgumentException("no feature row " + r + " (the grids hold " + rows + ")");
            MappedByteBuffer b = chunks[(int) (r / rowsPerChunk)];
            int at = (int) (r % rowsPerChunk) * per * (half ? 2 : 4);
            int o = i * per;
            if (half) {
                for (int j = 0; j < per; j++) out[o + j] = HalfFloat.toFloat(b.getShort(at + 2 * j));
            } else {
                for (int j = 0; j < per; j++) out[o + j] = b.getFloat(at + 4 * j);
            }
        }
        return Nd4j.create(out, new long[] {featureRows.length, cells, channels}, 'c');
    }
}
