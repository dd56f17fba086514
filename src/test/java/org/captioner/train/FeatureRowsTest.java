package org.captioner.train;

import org.captioner.features.FeatureSet;
import org.captioner.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Grids read row by row equal the rows the features folder's reader gives, in any order, repeats included. */
class FeatureRowsTest {
    @TempDir
    Path dir;

    @Test
    void rowsEqualTheReaders() throws Exception {
        TinyData.write(dir, 11, 5);
        try (FeatureSet fs = new FeatureSet(dir.resolve("features"))) {
            int per = fs.meta().gridSide() * fs.meta().gridSide() * fs.meta().gridChannels();
            int[] all = new int[fs.names().size()];
            for (int i = 0; i < all.length; i++) all[i] = i;
            try (FeatureRows g = FeatureRows.grids(fs, all)) {
                int[] order = {10, 0, 3, 3, 7, 2};
                INDArray rows = g.rows(order);
                assertArrayEquals(new long[] {order.length, fs.meta().gridSide() * fs.meta().gridSide(), fs.meta().gridChannels()}, rows.shape());
                for (int i = 0; i < order.length; i++) {
                    assertArrayEquals(fs.grid(order[i]), rows.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i)).dup('c').data().asFloat(),
                            "row " + order[i]);
                }
                assertThrows(IllegalArgumentException.class, () -> g.rows(new int[] {11}));
            }
            assertThrows(IOException.class, () -> FeatureRows.grids(fs, new int[] {0, 12}), "a missing row fails at once");
            try (FeatureRows v = FeatureRows.vectors(fs, all)) {
                INDArray rows = v.rows(new int[] {4, 1});
                assertArrayEquals(new long[] {2, fs.meta().vectorDim()}, rows.shape());
                assertArrayEquals(fs.vector(4), rows.getRow(0).dup().data().asFloat());
                assertArrayEquals(fs.vector(1), rows.getRow(1).dup().data().asFloat());
            }
        }
    }
}
