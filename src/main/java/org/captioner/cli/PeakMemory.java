package org.captioner.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/** Peak memory figures for benchmarks: process resident set (JVM heap + ND4J off-heap + natives) and JVM heap. */
final class PeakMemory {
    private PeakMemory() {
    }

    /** Peak resident set size in MiB (VmHWM from /proc), or -1 where /proc is unavailable. */
    static long peakRssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return -1;
    }

    static long peakHeapMiB() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) sum += p.getPeakUsage().getUsed();
        }
        return sum >> 20;
    }

    static String describe() {
        return "peak RSS " + peakRssMiB() + " MiB, peak heap " + peakHeapMiB() + " MiB";
    }
}
