package org.captioner.features;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads rows of little-endian float32/float16 C-order {@code .npy} files, random access, without loading the whole file. */
public final class NpyReader implements AutoCloseable {
    public record Header(String descr, long[] shape, int dataOffset) {
        public long rowElems() {
            return Arrays.stream(shape).skip(1).reduce(1, (a, b) -> a * b);
        }
    }

    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");

    private final FileChannel ch;
    private final Header header;
    private final int elemBytes;

    public NpyReader(Path file) throws IOException {
        this.header = readHeader(file);
        this.elemBytes = switch (header.descr()) {
            case "<f4" -> 4;
            case "<f2" -> 2;
            default -> throw new IOException(file + ": unsupported dtype " + header.descr() + " (float32 or float16 expected)");
        };
        this.ch = FileChannel.open(file, StandardOpenOption.READ);
    }

    public Header header() {
        return header;
    }

    public long rows() {
        return header.shape()[0];
    }

    public static Header readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer pre = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
            if (ch.read(pre, 0) < 10 || pre.get(0) != (byte) 0x93 || pre.get(1) != 'N' || pre.get(2) != 'U') {
                throw new IOException(file + " is not a .npy file");
            }
            int major = pre.get(6);
            int len;
            int start;
            if (major == 1) {
                len = Short.toUnsignedInt(pre.getShort(8));
                start = 10;
            } else {
                ByteBuffer l = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(l, 8);
                len = l.getInt(0);
                start = 12;
            }
            ByteBuffer h = ByteBuffer.allocate(len);
            ch.read(h, start);
            String text = new String(h.array(), StandardCharsets.US_ASCII);
            Matcher d = DESCR.matcher(text), s = SHAPE.matcher(text), f = FORTRAN.matcher(text);
            if (!d.find() || !s.find()) throw new IOException(file + ": malformed .npy header: " + text.trim());
            if (f.find() && f.group(1).equals("True")) throw new IOException(file + ": Fortran-order arrays are not supported");
            long[] shape = Arrays.stream(s.group(1).split(",")).map(String::trim).filter(x -> !x.isEmpty())
                    .mapToLong(Long::parseLong).toArray();
            return new Header(d.group(1), shape, start + len);
        }
    }

    /** Reads {@code count} rows starting at {@code row} into a float array of count * rowElems. */
    public float[] read(long row, int count) throws IOException {
        if (row < 0 || row + count > rows()) throw new IndexOutOfBoundsException("rows " + row + ".." + (row + count) + " of " + rows());
        long elems = header.rowElems() * count;
        ByteBuffer buf = ByteBuffer.allocate((int) (elems * elemBytes)).order(ByteOrder.LITTLE_ENDIAN);
        long pos = header.dataOffset() + row * header.rowElems() * elemBytes;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) throw new IOException("unexpected end of .npy data");
        }
        buf.flip();
        float[] out = new float[(int) elems];
        if (elemBytes == 4) {
            buf.asFloatBuffer().get(out);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = HalfFloat.toFloat(buf.getShort());
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
