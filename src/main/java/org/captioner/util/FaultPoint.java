package org.captioner.util;

import java.util.List;
import java.util.ServiceLoader;

/**
 * Named moments of the product's crash-safe writes, where a crash-safety or fault test stops or kills the process:
 * the one seam between the product and those tests. Implementations are found with {@link ServiceLoader}; the product
 * ships none, so {@link #at} does nothing in production. The points:
 * <ul>
 *   <li>{@code caption.before-rename}: {@code caption --out} has written its output's temp file, not yet renamed it;</li>
 *   <li>{@code train.checkpoint-parameters}: a checkpoint's parameters are written, its state not yet ({@code n}: the step);</li>
 *   <li>{@code spark.partition-batch}: a Spark task has handed {@code n} batches of rows to the writer and goes on.</li>
 * </ul>
 */
public interface FaultPoint {
    void reached(String point, long n);

    /** Tells every registered implementation (none in production) that {@code point} is reached. */
    static void at(String point, long n) {
        for (FaultPoint f : Registered.ALL) f.reached(point, n);
    }

    /** Loaded once, from the class loader that loaded the product (a Spark executor's includes the application's jars). */
    final class Registered {
        static final List<FaultPoint> ALL = ServiceLoader.load(FaultPoint.class, FaultPoint.class.getClassLoader()).stream()
                .map(ServiceLoader.Provider::get).toList();

        private Registered() {
        }
    }
}
