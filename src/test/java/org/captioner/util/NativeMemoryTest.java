package org.captioner.util;

import org.junit.jupiter.api.Test;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.*;

class NativeMemoryTest {
    static long collections() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
    }

    @Test
    void collectsOncePerInterval() {
        NativeMemory m = new NativeMemory(100);
        m.processed(60);
        long before = collections();
        m.processed(60);                                     // 120 >= 100: collect, counter restarts
        long after = collections();
        assertTrue(after > before, "a collection ran once the interval passed");
        m.processed(99);
        m.processed(1);                                      // exactly one more interval
        assertTrue(collections() > after, "and again after the next interval");
    }
}
