package org.nd4j.nativeblas;

/**
 * Compatibility shim for DL4J 1.0.0-M2.1, whose oneDNN layer helpers ({@code BaseMKLDNNHelper#mklDnnEnabled})
 * look up {@code org.nd4j.nativeblas.Nd4jCpu$Environment} by reflection: the class moved to
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu} and the method was renamed {@code isUseONEDNN}, so
 * the check always failed and convolutions fell back to a path 4-6x slower. This forwards the check to
 * the real environment. Remove when DL4J fixes the lookup. See {@link org.captioner.encoder.NativeSetup}.
 */
public final class Nd4jCpu {
    private Nd4jCpu() {
    }

    public static final class Environment {
        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        public static Environment getInstance() {
            return INSTANCE;
        }

        /** Reflection, so that this compiles without nd4j-native (the -Pcuda build). */
        public boolean isUseMKLDNN() {
            try {
                Class<?> env = Class.forName("org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment");
                Object instance = env.getMethod("getInstance").invoke(null);
                return (Boolean) env.getMethod("isUseONEDNN").invoke(instance);
            } catch (ReflectiveOperationException | RuntimeException e) {
                return false;
            }
        }
    }
}
