package org.captioner.layers;

import org.captioner.util.AtomicFiles;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.config.Adam;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * The named parameter arrays of a decoder built from these layers, with their Adam state: the optimisation step
 * (global-norm clipping, then ND4J's Adam per array) and the decoder file (a zip of {@code params/NAME},
 * {@code adam/NAME} in checkpoints, and the Adam step count). DL4J's own networks keep all of this in the
 * ComputationGraph; the layers here are not DL4J layers, so they keep it here, once for every decoder.
 */
public final class Parameters {
    private static final double CLIP_NORM = 5.0;

    private final String[] names;
    private final Map<String, INDArray> params = new LinkedHashMap<>();
    private final Map<String, AdamUpdater> adam = new HashMap<>();
    private final Map<String, INDArray> adamState = new HashMap<>();
    private final Map<String, Double> scalars = new java.util.TreeMap<>();   // training state beside the arrays
    private double learningRate;
    private int iteration;

    public Parameters(String[] names, double learningRate) {
        this.names = names.clone();
        this.learningRate = learningRate;
    }

    public String[] names() {
        return names.clone();
    }

    public INDArray get(String name) {
        return params.get(name);
    }

    /** Frees the parameters' and the Adam state's native buffers. */
    public void close() {
        for (INDArray a : params.values()) if (a.closeable()) a.close();
        for (INDArray a : adamState.values()) if (a.closeable()) a.close();
        params.clear();
        adamState.clear();
    }

    /** The arrays themselves, in {@link #names} order (gradient checks perturb them in place). */
    public Map<String, INDArray> all() {
        return params;
    }

    /** Sets every array (in {@link #names} order) and starts Adam's moments at zero. */
    public void init(Map<String, INDArray> initial) {
        for (String n : names) {
            INDArray p = initial.get(n);
            if (p == null) throw new IllegalArgumentException("no initial value for " + n);
            params.put(n, p);
        }
        initAdam();
    }

    private void initAdam() {
        for (String n : names) {
            INDArray p = params.get(n);
            AdamUpdater u = new AdamUpdater(new Adam(learningRate));
            INDArray state = adamState.computeIfAbsent(n, k -> Nd4j.zeros(p.dataType(), 1, 2 * p.length()));
            u.setStateViewArray(state, p.shape(), 'c', false);
            adam.put(n, u);
        }
    }

    /** Zeroed arrays shaped as the parameters, for a backward pass to accumulate into. */
    public Map<String, INDArray> zeroGradients() {
        Map<String, INDArray> g = new LinkedHashMap<>();
        for (String n : names) g.put(n, params.get(n).ulike().assign(0));
        return g;
    }

    /** One Adam step with global gradient-norm clipping, as {@code torch.nn.utils.clip_grad_norm_(params, 5)}. */
    public void update(Map<String, INDArray> grads) {
        double sq = 0;
        for (INDArray gr : grads.values()) {
            double nrm = gr.norm2Number().doubleValue();
            sq += nrm * nrm;
        }
        double norm = Math.sqrt(sq);
        double scale = norm > CLIP_NORM ? CLIP_NORM / norm : 1.0;
        for (String name : names) {
            INDArray gr = grads.get(name).dup('c');
            if (scale != 1.0) gr.muli(scale);
            AdamUpdater u = adam.get(name);
            u.getConfig().setLearningRate(learningRate);
            u.applyUpdater(gr, iteration, 0);                 // gr becomes the Adam step
            params.get(name).subi(gr.reshape(params.get(name).shape()));
        }
        iteration++;
    }

    /** U(-r, r) of the given shape (PyTorch's initialisation of linear and recurrent weights, r = 1/sqrt(fan-in)). */
    public static INDArray uniform(DataType dt, double r, long... shape) {
        return Nd4j.rand(dt, shape).muli(2 * r).subi(r);
    }

    /** A named number kept with the parameters (e.g. hard attention's reward baseline); 0 until set. */
    public double scalar(String name) {
        return scalars.getOrDefault(name, 0.0);
    }

    public void setScalar(String name, double value) {
        scalars.put(name, value);
    }

    public void setLearningRate(double lr) {
        this.learningRate = lr;
    }

    public double learningRate() {
        return learningRate;
    }

    public long count() {
        return params.values().stream().mapToLong(INDArray::length).sum();
    }

    /**
     * Checkpoints ({@code withUpdater}) keep float32 parameters and the Adam state; a model bundle stores its parameters
     * as float16, half the size in every clone's history (8,571,621 attention parameters: a 15.7 MB file instead of 34 MB
     * of float32): beam-3 decoding of the 1,000 Flickr8k dev images gave the same 1,000 captions from both forms (a
     * MobileNetV2 attention model, mid-training). They are widened to float32 on load.
     */
    public void save(Path file, boolean withUpdater) throws IOException {
        AtomicFiles.write(file, out -> {
            ZipOutputStream zip = new ZipOutputStream(out);
            DataOutputStream data = new DataOutputStream(zip);
            for (String n : names) {
                zip.putNextEntry(new ZipEntry("params/" + n));
                INDArray p = params.get(n);
                Nd4j.write(withUpdater || p.dataType() != DataType.FLOAT ? p : p.castTo(DataType.HALF), data);
                data.flush();
                zip.closeEntry();
                if (withUpdater) {
                    zip.putNextEntry(new ZipEntry("adam/" + n));
                    Nd4j.write(adamState.get(n), data);
                    data.flush();
                    zip.closeEntry();
                }
            }
            zip.putNextEntry(new ZipEntry("iteration"));
            data.writeInt(iteration);
            data.flush();
            zip.closeEntry();
            for (Map.Entry<String, Double> e : scalars.entrySet()) {
                zip.putNextEntry(new ZipEntry("scalar/" + e.getKey()));
                data.writeDouble(e.getValue());
                data.flush();
                zip.closeEntry();
            }
            zip.finish();
        });
    }

    /** Reads a decoder file; {@code what} names the decoder in errors ("an attention decoder"). */
    public static Parameters load(Path file, String[] names, boolean withUpdater, double learningRate, String what) throws IOException {
        Parameters s = new Parameters(names, learningRate);
        Map<String, INDArray> read = new HashMap<>();
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(file))) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                DataInputStream in = new DataInputStream(zip);
                if (e.getName().startsWith("params/")) {
                    INDArray p = Nd4j.read(in);
                    read.put(e.getName().substring(7), p.dataType() == DataType.HALF ? p.castTo(DataType.FLOAT) : p);
                }
                else if (e.getName().startsWith("adam/") && withUpdater) s.adamState.put(e.getName().substring(5), Nd4j.read(in));
                // without its Adam moments the step count restarts too: Adam's bias correction assumes moments of
                // that age, and fresh moments with an old count made the first fine-tuning steps ~3-6x the learning rate
                else if (e.getName().equals("iteration") && withUpdater) s.iteration = in.readInt();
                else if (e.getName().startsWith("scalar/") && withUpdater) s.scalars.put(e.getName().substring(7), in.readDouble());
            }
        } catch (RuntimeException e) {
            throw new IOException(file + " is not " + what + ": " + e.getMessage(), e);
        }
        for (String n : names) if (!read.containsKey(n)) throw new IOException(file + " is not " + what + ": it lacks parameter " + n);
        for (String n : read.keySet()) {
            if (!java.util.Arrays.asList(names).contains(n)) throw new IOException(file + " is not " + what + ": unexpected parameter " + n);
        }
        s.init(read);
        return s;
    }
}
