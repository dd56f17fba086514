package org.captioner.train;

import org.captioner.features.FeatureSet;
import org.captioner.features.HalfFloat;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;

/**
 * All feature grids of a feature set held in memory as float16 (half the size of float32: 1.2 GB for
 * Flickr8k's 7,000 x 169 x 512), so attention training never waits on disk.
 */
public final class FeatureGrids {
    private final short[][] rows; // [row][cells * C] binary16
    private final int cells, channels;

    public FeatureGrids(FeatureSet fs, int[] neededRows) throws IOException {
        this.cells = fs.meta().gridSide() * fs.meta().gridSide();
        this.channels = fs.meta().gridChannels();
        this.rows = new short[fs.names().size()][];
        for (int r : neededRows) {
            if (rows[r] != null) continue;
            float[] g = fs.grid(r);
            short[] h = new short[g.length];
            for (int i = 0; i < g.length; i++) h[i] = HalfFloat.fromFloat(g[i]);
            rows[r] = h;
        }
    }

    public int cells() {
        return cells;
    }

    public int channels() {
        return channels;
    }

    /** [B, cells, C] float32 for the given feature rows. */
    public INDArray rows(int[] featureRows) {
        int per = cells * channels;
        float[] out = new float[featureRows.length * per];
        for (int i = 0; i < featureRows.length; i++) {
            short[] h = rows[featureRows[i]];
            if (h == null) throw new IllegalStateException("feature row " + featureRows[i] + " was not loaded (not among the rows asked for)");
            for (int j = 0; j < per; j++) out[i * per + j] = HalfFloat.toFloat(h[j]);
        }
        return Nd4j.create(out, new long[] {featureRows.length, cells, channels}, 'c');
    }
}
