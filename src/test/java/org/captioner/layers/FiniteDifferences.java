package org.captioner.layers;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;
import java.util.Random;
import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.*;

/** Central finite differences, in double precision, against a backward pass's gradients: the check every layer and decoder passes. */
public final class FiniteDifferences {
    private FiniteDifferences() {
    }

    /**
     * Perturbs up to {@code perArray} random entries of each array of {@code params} by +-1e-6 and compares
     * (loss(+) - loss(-)) / 2e-6 with {@code grads}; every array but those named in {@code mayBeZero} must get some
     * gradient. Returns the number of entries checked.
     */
    public static int check(Map<String, INDArray> params, Map<String, INDArray> grads, DoubleSupplier loss, int perArray,
                            Random r, String... mayBeZero) {
        double eps = 1e-6;
        int checked = 0;
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray p = e.getValue(), gp = grads.get(e.getKey());
            assertNotNull(gp, "no gradient for " + e.getKey());
            assertArrayEquals(p.shape(), gp.shape(), e.getKey());
            boolean nonZero = false;
            for (int k = 0; k < Math.min(perArray, p.length()); k++) {
                long idx = (long) (r.nextDouble() * p.length());
                double orig = p.getDouble(idx);
                p.putScalar(idx, orig + eps);
                double up = loss.getAsDouble();
                p.putScalar(idx, orig - eps);
                double down = loss.getAsDouble();
                p.putScalar(idx, orig);
                double numeric = (up - down) / (2 * eps), analytic = gp.getDouble(idx);
                double err = Math.abs(numeric - analytic) / Math.max(1e-8, Math.abs(numeric) + Math.abs(analytic));
                assertTrue(err < 1e-5 || Math.abs(numeric - analytic) < 1e-9,
                        e.getKey() + "[" + idx + "]: numeric " + numeric + " analytic " + analytic);
                nonZero |= Math.abs(analytic) > 1e-9;
                checked++;
            }
            if (!java.util.Arrays.asList(mayBeZero).contains(e.getKey())) assertTrue(nonZero, e.getKey() + " got no gradient");
        }
        return checked;
    }
}
