package org.captioner.encoder;

import com.google.flatbuffers.Table;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The parts of a TensorFlow Lite model file (a FlatBuffer, schema version 3) that importing a CNN needs:
 * tensors (shape, type, quantization, constant data), operators in execution order with their options, and
 * the subgraph's inputs. Constant tensors are returned dequantized to float ({@code (q - zero_point) * scale}).
 *
 * <p>Written by hand on top of flatbuffers-java's {@link Table} (the wire format; the same artifact ND4J
 * already depends on) because the TFLite schema's generated Java classes are not published on Maven Central;
 * only the few fields read below are mirrored, with their schema field numbers ({@code schema.fbs}).
 */
public final class TfliteFile {
    // BuiltinOperator codes (schema.fbs)
    public static final int ADD = 0, AVERAGE_POOL_2D = 1, CONV_2D = 3, DEPTHWISE_CONV_2D = 4, RESHAPE = 22, SOFTMAX = 25;
    // TensorType
    public static final int FLOAT32 = 0, INT32 = 2, UINT8 = 3, INT8 = 9;
    // Padding
    public static final int SAME = 0, VALID = 1;
    // ActivationFunctionType
    public static final int ACT_NONE = 0, ACT_RELU = 1, ACT_RELU6 = 3;

    /** Per-tensor (or per-axis) affine quantization; null scale for float tensors. */
    public record Quantization(float[] scale, long[] zeroPoint, int dimension) {
    }

    public record Tensor(int index, String name, int[] shape, int type, int buffer, Quantization quantization) {
        @Override
        public String toString() {
            return name + " " + Arrays.toString(shape);
        }
    }

    /** The options of conv, depthwise conv and add (the fields that exist for the op; others 0). */
    public record Options(int padding, int strideW, int strideH, int depthMultiplier, int activation,
                          int dilationW, int dilationH) {
    }

    public record Operator(int builtin, int[] inputs, int[] outputs, Options options) {
    }

    private final Path file;
    private final ByteBuffer bb;
    private final List<Tensor> tensors = new ArrayList<>();
    private final List<Operator> operators = new ArrayList<>();
    private final int[] inputs;
    private final int[] outputs;
    private final Fb model;

    private TfliteFile(Path file, ByteBuffer bb) throws IOException {
        this.file = file;
        this.bb = bb.order(ByteOrder.LITTLE_ENDIAN);
        if (bb.limit() < 8 || bb.get(4) != 'T' || bb.get(5) != 'F' || bb.get(6) != 'L' || bb.get(7) != '3') {
            throw new IOException(file + " is not a TensorFlow Lite model (no TFL3 file identifier)");
        }
        model = new Fb(bb.getInt(0), bb);
        long version = model.intField(0, 0) & 0xFFFFFFFFL;
        if (version != 3) throw new IOException(file + ": TFLite schema version " + version + ", expected 3");
        if (model.vectorLength(2) < 1) throw new IOException(file + " has no subgraph");
        Fb subgraph = model.tableAt(2, 0);
        int[] opcodes = new int[model.vectorLength(1)];
        for (int i = 0; i < opcodes.length; i++) {
            Fb code = model.tableAt(1, i);
            // field 0 is the original byte code (later "deprecated_builtin_code"), field 3 the int code added
            // once codes passed 127: the larger of the two is the operator, as TFLite's own reader does.
            opcodes[i] = Math.max(code.byteField(0, 0), code.intField(3, 0));
        }
        for (int i = 0; i < subgraph.vectorLength(0); i++) {
            Fb t = subgraph.tableAt(0, i);
            Fb q = t.table(4);
            Quantization quant = null;
            if (q != null && q.vectorLength(2) > 0) {
                quant = new Quantization(q.floats(2), q.longs(3), q.intField(6, 0));
            }
            tensors.add(new Tensor(i, t.string(3), t.ints(0), t.byteField(1, 0), t.intField(2, 0), quant));
        }
        for (int i = 0; i < subgraph.vectorLength(3); i++) {
            Fb op = subgraph.tableAt(3, i);
            int idx = op.intField(0, 0);
            if (idx < 0 || idx >= opcodes.length) throw new IOException(file + ": operator " + i + " has a bad opcode index");
            int builtin = opcodes[idx];
            Fb o = op.table(4); // builtin_options (field 3 is its union type)
            Options options = switch (builtin) {
                case CONV_2D -> o == null ? null : new Options(o.byteField(0, 0), o.intField(1, 1), o.intField(2, 1),
                        0, o.byteField(3, 0), o.intField(4, 1), o.intField(5, 1));
                case DEPTHWISE_CONV_2D -> o == null ? null : new Options(o.byteField(0, 0), o.intField(1, 1),
                        o.intField(2, 1), o.intField(3, 1), o.byteField(4, 0), o.intField(5, 1), o.intField(6, 1));
                case ADD -> new Options(0, 1, 1, 0, o == null ? 0 : o.byteField(0, 0), 1, 1);
                default -> null;
            };
            operators.add(new Operator(builtin, op.ints(1), op.ints(2), options));
        }
        inputs = subgraph.ints(1);
        outputs = subgraph.ints(2);
    }

    public static TfliteFile read(Path file) throws IOException {
        return new TfliteFile(file, ByteBuffer.wrap(Files.readAllBytes(file)));
    }

    public Path file() {
        return file;
    }

    public List<Tensor> tensors() {
        return tensors;
    }

    public Tensor tensor(int index) {
        return tensors.get(index);
    }

    public List<Operator> operators() {
        return operators;
    }

    public int[] inputs() {
        return inputs;
    }

    public int[] outputs() {
        return outputs;
    }

    /** A constant tensor's values as float, dequantized, in the tensor's row-major order. */
    public float[] constant(Tensor t) throws IOException {
        if (t.buffer() <= 0 || t.buffer() >= model.vectorLength(4)) {
            throw new IOException(file + ": tensor " + t + " has no constant data");
        }
        Fb buffer = model.tableAt(4, t.buffer());
        int n = 1;
        for (int d : t.shape()) n *= d;
        int start = buffer.vectorStart(0), bytes = buffer.vectorLength(0);
        int width = switch (t.type()) {
            case FLOAT32, INT32 -> 4;
            case UINT8, INT8 -> 1;
            default -> throw new IOException(file + ": tensor " + t + " has unsupported type " + t.type());
        };
        if (bytes != n * width) {
            throw new IOException(file + ": tensor " + t + " holds " + bytes + " bytes, its shape needs " + n * width);
        }
        float[] out = new float[n];
        if (t.type() == FLOAT32) {
            for (int i = 0; i < n; i++) out[i] = bb.getFloat(start + 4 * i);
            return out;
        }
        Quantization q = t.quantization();
        if (q == null) throw new IOException(file + ": integer tensor " + t + " has no quantization parameters");
        // per-tensor: one scale; per-axis: one per index of dimension q.dimension()
        int stride = 1;
        for (int d = q.dimension() + 1; d < t.shape().length; d++) stride *= t.shape()[d];
        int channels = q.scale().length;
        for (int i = 0; i < n; i++) {
            int c = channels == 1 ? 0 : (i / stride) % channels;
            long zp = q.zeroPoint().length == 0 ? 0 : q.zeroPoint()[Math.min(c, q.zeroPoint().length - 1)];
            long v = switch (t.type()) {
                case UINT8 -> bb.get(start + i) & 0xFF;
                case INT8 -> bb.get(start + i);
                default -> bb.getInt(start + 4 * i);
            };
            out[i] = (float) ((v - zp) * (double) q.scale()[c]);
        }
        return out;
    }

    /** A FlatBuffer table with accessors by schema field number (vtable slot 4 + 2 * field). */
    private static final class Fb extends Table {
        Fb(int pos, ByteBuffer bb) {
            __reset(pos, bb);
        }

        private int off(int field) {
            return __offset(4 + 2 * field);
        }

        int intField(int field, int dflt) {
            int o = off(field);
            return o != 0 ? bb.getInt(o + bb_pos) : dflt;
        }

        int byteField(int field, int dflt) {
            int o = off(field);
            return o != 0 ? bb.get(o + bb_pos) : dflt;
        }

        String string(int field) {
            int o = off(field);
            return o != 0 ? __string(o + bb_pos) : null;
        }

        Fb table(int field) {
            int o = off(field);
            return o != 0 ? new Fb(__indirect(o + bb_pos), bb) : null;
        }

        int vectorLength(int field) {
            int o = off(field);
            return o != 0 ? __vector_len(o) : 0;
        }

        /** Absolute position of a vector's first element. */
        int vectorStart(int field) {
            int o = off(field);
            return o != 0 ? __vector(o) : 0;
        }

        Fb tableAt(int field, int j) {
            return new Fb(__indirect(vectorStart(field) + 4 * j), bb);
        }

        int[] ints(int field) {
            int[] a = new int[vectorLength(field)];
            int s = vectorStart(field);
            for (int i = 0; i < a.length; i++) a[i] = bb.getInt(s + 4 * i);
            return a;
        }

        float[] floats(int field) {
            float[] a = new float[vectorLength(field)];
            int s = vectorStart(field);
            for (int i = 0; i < a.length; i++) a[i] = bb.getFloat(s + 4 * i);
            return a;
        }

        long[] longs(int field) {
            long[] a = new long[vectorLength(field)];
            int s = vectorStart(field);
            for (int i = 0; i < a.length; i++) a[i] = bb.getLong(s + 8 * i);
            return a;
        }
    }
}
