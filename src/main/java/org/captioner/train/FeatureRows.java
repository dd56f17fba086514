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
 * The image vectors or feature grids of a feature set, read from its {@code vectors.npy} or {@code grid.npy} row by row
 * as batches need them (positional reads, safe from several threads) instead of held in memory: the Java heap does not
 * grow with the data set (COCO's 123,287 x 49 x 1,280 float16 grids are 15.4 GB on disk, its vectors 630 MB), and the
 * operating system's page cache, which is not part of the process's resident memory, keeps what training reads again.
 * (Memory-mapping the file would count every page the kernel's read-around brings in as resident: 2.3 GB after 30
 * steps at COCO's size, measured with {@code bench train-scale}.)
 */
public final class FeatureRows implements BatchBuilder.Rows, AutoCloseable {
    private final FileChannel file;
    private final long dataOffset;
    private final long rows;
    private final long[] rowShape;         // [D] for vectors, [cells, C] for grids
    private final int per;                 // values per row
    private final boolean half;            // "<f2" (float16, the grids' default) or "<f4"
    private final int rowBytes;
    private final ThreadLocal<ByteBuffer> buffer;

    /** The grids, [cells, C] per row; {@code neededRows}: the rows that will be read (a missing one fails here, not mid-epoch). */
    public static FeatureRows grids(FeatureSet fs, int[] neededRows) throws IOException {
        int cells = fs.meta().gridSide() * fs.meta().gridSide();
        return new FeatureRows(fs, FeatureExtractor.GRID, new long[] {cells, fs.meta().gridChannels()}, neededRows);
    }

    /** The image vectors, [D] per row. */
    public static FeatureRows vectors(FeatureSet fs, int[] neededRows) throws IOException {
        return new FeatureRows(fs, FeatureExtractor.VECTORS, new long[] {fs.meta().vectorDim()}, neededRows);
    }

    private FeatureRows(FeatureSet fs, String fileName, long[] rowShape, int[] neededRows) throws IOException {
        Path path = fs.dir().resolve(fileName);
        NpyReader.Header h = NpyReader.readHeader(path);
        this.half = switch (h.descr()) {
            case "<f2" -> true;
            case "<f4" -> false;
            default -> throw new IOException(path + ": features must be float16 or float32 (little-endian), not " + h.descr());
        };
        long n = 1;
        for (long x : rowShape) n *= x;
        if (h.rowElems() != n) throw new IOException(path + ": rows of " + h.rowElems() + " values, meta.json says " + java.util.Arrays.toString(rowShape));
        this.rowShape = rowShape;
        this.per = (int) n;
        this.rows = Math.min(h.shape()[0], fs.names().size());
        this.rowBytes = per * (half ? 2 : 4);
        this.dataOffset = h.dataOffset();
        for (int r : neededRows) {
            if (r < 0 || r >= rows) throw new IOException(path + " has no feature row " + r + " (it holds " + rows + ")");
        }
        // a direct buffer per reading thread: a heap buffer would make the JDK copy through a temporary direct one
        this.buffer = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(rowBytes).order(ByteOrder.LITTLE_ENDIAN));
        this.file = FileChannel.open(path, StandardOpenOption.READ);
    }

    /** [B, ...row shape] float32 for the given feature rows. */
    @Override
    public INDArray rows(int[] featureRows) {
        float[] out = new float[featureRows.length * per];
        ByteBuffer b = buffer.get();
        for (int i = 0; i < featureRows.length; i++) {
            int r = featureRows[i];
            if (r < 0 || r >= rows) throw new IllegalArgumentException("no feature row " + r + " (the file holds " + rows + ")");
            b.clear();
            try {
                long at = dataOffset + (long) r * rowBytes;
                while (b.hasRemaining()) {
                    if (file.read(b, at + b.position()) < 0) throw new IOException("the features file ends inside row " + r);
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
        long[] shape = new long[rowShape.length + 1];
        shape[0] = featureRows.length;
        System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
        return Nd4j.create(out, shape, 'c');
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
