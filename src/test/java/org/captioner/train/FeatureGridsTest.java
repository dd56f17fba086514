package org.captioner.train;

import org.captioner.features.FeatureSet;
import org.captioner.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Grids read through memory maps equal the rows the features folder's reader gives, across map boundaries too. */
class FeatureGridsTest {
    @TempDir
    Path dir;

    @Test
    void mappedRowsEqualTheReadersAcrossChunkBoundaries() throws Exception {
        TinyData.write(dir, 11, 5);
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            int per = fs.meta().gridSide() * fs.meta().gridSide() * fs.meta().gridChannels();
            int[] all = new int[fs.names().size()];
            for (int i = 0; i < all.length; i++) all[i] = i;
            for (long chunk : new long[] {1L << 30, 3L * per * 2, per * 2L}) {       // one map; 3 rows a map; 1 row a map
                FeatureGrids g = new FeatureGrids(fs, all, chunk);
                int[] order = {10, 0, 3, 3, 7, 2};
                INDArray rows = g.rows(order);
                assertArrayEquals(new long[] {order.length, g.cells(), g.channels()}, rows.shape());
                for (int i = 0; i < order.length; i++) {
                    assertArrayEquals(fs.grid(order[i]), rows.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i)).dup('c').data().asFloat(),
                            "row " + order[i] + " with maps of " + chunk + " bytes");
                }
                assertThrows(IllegalArgumentException.class, () -> g.rows(new int[] {11}));
            }
            assertThrows(IOException.class, () -> new FeatureGrids(fs, new int[] {0, 12}), "a missing row fails at once");
        }
    }
}
