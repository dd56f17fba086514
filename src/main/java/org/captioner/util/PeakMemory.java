package org.captioner.util;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/** Peak memory figures for benchmarks: process resident set (JVM heap + ND4J off-heap + natives) and JVM heap. */
public final class PeakMemory {
    private PeakMemory() {
    }

    /** Peak resident set size in MiB (VmHWM from /proc), or -1 where /proc is unavailable. */
    public static long peakRssMiB() {
        return peakRssMiB("self");
    }

    /** The same for another process (a benchmark's child), or -1 when it is gone or /proc is unavailable. */
    public static long peakRssMiB(long pid) {
        return peakRssMiB(String.valueOf(pid));
    }

    private static long peakRssMiB(String proc) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + proc + "/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux, or the process is gone
        }
        return -1;
    }

    public static long peakHeapMiB() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) sum += p.getPeakUsage().getUsed();
        }
        return sum >> 20;
    }

    public static String describe() {
        return "peak RSS " + peakRssMiB() + " MiB, peak heap " + peakHeapMiB() + " MiB";
    }
}
