package org.captioner.pipeline;

import java.util.LinkedHashMap;
import java.util.Map;

/** Seconds spent per pipeline stage, summed over the batches (thread-safe; stages in the order first timed). */
public final class StageTimes {
    private final Map<String, Long> nanos = new LinkedHashMap<>();

    synchronized void add(String stage, long ns) {
        nanos.merge(stage, ns, Long::sum);
    }

    /** Stage -> seconds. */
    public synchronized Map<String, Double> seconds() {
        Map<String, Double> out = new LinkedHashMap<>();
        nanos.forEach((k, v) -> out.put(k, v / 1e9));
        return out;
    }
}
