package org.captioner.train;

import org.captioner.features.FeatureExtractor;
import org.captioner.features.FeatureSet;
import org.captioner.features.HalfFloat;
import org.captioner.features.NpyReader;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The feature grids of a feature set, read from its {@code grid.npy} row by row as batches need them (positional
 * reads, safe from several threads) instead of held in memory: the Java heap does not grow with the data set (COCO's
 * 123,287 x 49 x 1,280 float16 grids are 15.4 GB on disk), and the operating system's page cache, which is not part of
 * the process's resident memory, keeps what training reads again. (Memory-mapping the file would count every page
 * the kernel's read-around brings in as resident: 2.3 GB after 30 steps at COCO's size, measured with
 * {@code bench train-scale}.)
 */
public final class FeatureGrids implements AutoCloseable {
    private final FileChannel file;
    private final long dataOffset;
    private final long rows;
    private final int cells, channels;
    private final boolean half;            // "<f2" (float16, the default) or "<f4"
    private final int rowBytes;
    private final ThreadLocal<ByteBuffer> buffer;

    /** @param neededRows the rows that will be read (checked to exist: a missing row fails here, not mid-epoch) */
    public FeatureGrids(FeatureSet fs, int[] neededRows) throws IOException {
        this.cells = fs.meta().gridSide() * fs.meta().gridSide();
        this.channels = fs.meta().gridChannels();
        Path path = fs.dir().resolve(FeatureExtractor.GRID);
        NpyReader.Header h = NpyReader.readHeader(path);
        this.half = switch (h.descr()) {
            case "<f2" -> true;
            case "<f4" -> false;
            default -> throw new IOException(path + ": grids must be float16 or float32 (little-endian), not " + h.descr());
        };
        long per = (long) cells * channels;
        if (h.rowElems() != per) throw new IOException(path + ": rows of " + h.rowElems() + " values, meta.json says " + cells + " x " + channels);
        this.rows = Math.min(h.shape()[0], fs.names().size());
        this.rowBytes = (int) (per * (half ? 2 : 4));
        this.dataOffset = h.dataOffset();
        for (int r : neededRows) {
            if (r < 0 || r >= rows) throw new IOException(path + " has no feature row " + r + " (it holds " + rows + ")");
        }
        // a direct buffer per reading thread: a heap buffer would make the JDK copy through a temporary direct one
        this.buffer = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(rowBytes).order(ByteOrder.LITTLE_ENDIAN));
        this.file = FileChannel.open(path, StandardOpenOption.READ);
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
        ByteBuffer b = buffer.get();
        for (int i = 0; i < featureRows.length; i++) {
            int r = featureRows[i];
            if (r < 0 || r >= rows) throw new IllegalArgumentException("no feature row " + r + " (the grids hold " + rows + ")");
            b.clear();
            try {
                long at = dataOffset + (long) r * rowBytes;
                while (b.hasRemaining()) {
                    if (file.read(b, at + b.position()) < 0) throw new IOException("grid.npy ends inside row " + r);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading feature row " + r + ": " + e.getMessage(), e);
            }
            int o = i * per;
            if (half) {
                for (int j = 0; j < per; j++) out[o + j] = HalfFloat.toFloat(b.getShort(2 * j));
            } else {
                for (int j = 0; j < per; j++) out[o + j] = b.getFloat(4 * j);
            }
        }
        return Nd4j.create(out, new long[] {featureRows.length, cells, channels}, 'c');
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
