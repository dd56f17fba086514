package org.captioner.encoder;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One-time ND4J/DL4J settings every entry point calls before building networks: float32 everywhere, and
 * the oneDNN layer helpers switched on (1.0.0-M2.1 disables them by default; see
 * {@code org.nd4j.nativeblas.Nd4jCpu} for the lookup it also needs). Set
 * {@code -Dcaptioner.onednn=false} to compare against the built-in path.
 */
public final class NativeSetup {
    private static volatile boolean done;

    private NativeSetup() {
    }

    public static synchronized void init() {
        if (done) return;
        boolean onednn = Boolean.parseBoolean(System.getProperty("captioner.onednn", "true"));
        System.setProperty("org.eclipse.deeplearning4j.helpers.disable", Boolean.toString(!onednn));
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        if (onednn) Nd4j.getEnvironment().allowHelpers(true);
        done = true;
    }

    /** True when convolutions will go through oneDNN. */
    public static boolean oneDnnActive() {
        return !Boolean.getBoolean("org.eclipse.deeplearning4j.helpers.disable")
                && org.nd4j.nativeblas.Nd4jCpu.Environment.getInstance().isUseMKLDNN();
    }
}
