package org.captioner.features;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Appends rows to a NumPy {@code .npy} file (format 1.0, little-endian, C order) without holding the
 * array in memory. The header is a fixed 128 bytes, rewritten with the row count after every append, so
 * the file is a valid array of the rows written so far at any moment; {@link #open} resumes an existing
 * file, cutting off any partial row left by a crash.
 */
public final class NpyWriter implements AutoCloseable {
    public enum Dtype {
        FLOAT32("<f4", 4), FLOAT16("<f2", 2);
        final String descr;
        final int bytes;

        Dtype(String descr, int bytes) {
            this.descr = descr;
            this.bytes = bytes;
        }

        public static Dtype parse(String s) {
            return switch (s.toLowerCase()) {
                case "float32", "f4", "fp32" -> FLOAT32;
                case "float16", "f2", "fp16", "half" -> FLOAT16;
                default -> throw new IllegalArgumentException("unknown dtype '" + s + "' (float32 or float16)");
            };
        }
    }

    static final int HEADER_LEN = 128;
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};

    private final FileChannel ch;
    private final Dtype dtype;
    private final long[] rowShape;
    private final long rowElems;
    private long rows;

    private NpyWriter(FileChannel ch, Dtype dtype, long[] rowShape, long rows) {
        this.ch = ch;
        this.dtype = dtype;
        this.rowShape = rowShape;
        this.rowElems = Arrays.stream(rowShape).reduce(1, (a, b) -> a * b);
        this.rows = rows;
    }

    /**
     * Opens {@code file} for appending rows of shape {@code rowShape}, keeping its first {@code keepRows}
     * rows if it exists (fewer if fewer are complete) and creating it otherwise.
     */
    public static NpyWriter open(Path file, Dtype dtype, long[] rowShape, long keepRows) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        NpyWriter w = new NpyWriter(ch, dtype, rowShape, 0);
        long rowBytes = w.rowElems * dtype.bytes;
        long existing = ch.size() >= HEADER_LEN ? (ch.size() - HEADER_LEN) / rowBytes : 0;
        if (ch.size() >= HEADER_LEN) {
            NpyReader.Header h = NpyReader.readHeader(file);
            if (!h.descr().equals(dtype.descr) || !Arrays.equals(Arrays.copyOfRange(h.shape(), 1, h.shape().length), rowShape)) {
                ch.close();
                throw new IOException(file + " holds " + h.descr() + " rows of " + Arrays.toString(Arrays.copyOfRange(h.shape(), 1, h.shape().length))
                        + ", not " + dtype.descr + " rows of " + Arrays.toString(rowShape) + "; use another output folder");
            }
        }
        w.rows = Math.min(existing, keepRows);
        ch.truncate(HEADER_LEN + w.rows * rowBytes);
        w.writeHeader();
        ch.position(HEADER_LEN + w.rows * rowBytes);
        return w;
    }

    public long rows() {
        return rows;
    }

    /** Appends {@code data.length / rowElems} rows. */
    public void append(float[] data) throws IOException {
        if (data.length % rowElems != 0) throw new IllegalArgumentException("data is not a whole number of rows");
        ByteBuffer buf = ByteBuffer.allocate(data.length * dtype.bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (dtype == Dtype.FLOAT32) {
            buf.asFloatBuffer().put(data);
        } else {
            for (float f : data) buf.putShort(HalfFloat.fromFloat(f));
            buf.flip();
        }
        buf.position(0).limit(data.length * dtype.bytes);
        ch.position(HEADER_LEN + rows * rowElems * dtype.bytes);
        while (buf.hasRemaining()) ch.write(buf);
        rows += data.length / rowElems;
        writeHeader();
    }

    private void writeHeader() throws IOException {
        long[] shape = new long[rowShape.length + 1];
        shape[0] = rows;
        System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
        String dims = Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "));
        if (shape.length == 1) dims += ",";
        String dict = "{'descr': '" + dtype.descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        StringBuilder sb = new StringBuilder(dict);
        while (MAGIC.length + 2 + sb.length() + 1 < HEADER_LEN) sb.append(' ');
        sb.append('\n');
        byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
        if (MAGIC.length + 2 + text.length != HEADER_LEN) throw new IOException("npy header too long for shape " + dims);
        ByteBuffer h = ByteBuffer.allocate(HEADER_LEN).order(ByteOrder.LITTLE_ENDIAN);
        h.put(MAGIC).putShort((short) text.length).put(text).flip();
        ch.write(h, 0);
    }

    @Override
    public void close() throws IOException {
        ch.force(true);
        ch.close();
    }
}
