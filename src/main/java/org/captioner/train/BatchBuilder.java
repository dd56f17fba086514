package org.captioner.train;

import org.captioner.data.TrainingSet;
import org.captioner.model.CaptionBatch;
import org.captioner.text.Vocabulary;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/** Pads pairs into a teacher-forcing batch; image features are read from the feature files as batches need them. */
public final class BatchBuilder {
    /** Feature rows by index, [B, ...row shape]: read from a file ({@link FeatureRows}) or held in memory ({@link #of}). */
    public interface Rows {
        INDArray rows(int[] featureRows);

        /** Rows held in memory, [rows][D]. */
        static Rows of(float[][] rows) {
            return idx -> {
                int d = rows[0].length;
                float[] v = new float[idx.length * d];
                for (int i = 0; i < idx.length; i++) System.arraycopy(rows[idx[i]], 0, v, i * d, d);
                return Nd4j.create(v, new long[] {idx.length, d}, 'c');
            };
        }
    }

    private final Rows vectors;  // [D] per row
    private final Rows grids;    // [cells, C] per row; null when the decoder does not attend

    public BatchBuilder(Rows vectors, Rows grids) {
        this.vectors = vectors;
        this.grids = grids;
    }

    /** Image vectors [n, D] and, for attention, grids [n, cells, C] of feature rows: what decoding needs. */
    public record Features(INDArray vectors, INDArray grids) {
    }

    public Features features(int[] rows) {
        return new Features(vectors.rows(rows), grids == null ? null : grids.rows(rows));
    }

    /** Captions feature rows in chunks; the best hypothesis per row. */
    public List<org.captioner.decode.Hypothesis> caption(org.captioner.decode.CaptionSearch search, int[] rows,
                                                         org.captioner.decode.DecodeOptions options, int chunk) {
        List<org.captioner.decode.Hypothesis> out = new java.util.ArrayList<>(rows.length);
        for (int s = 0; s < rows.length; s += chunk) {
            Features f = features(java.util.Arrays.copyOfRange(rows, s, Math.min(rows.length, s + chunk)));
            for (List<org.captioner.decode.Hypothesis> nb : search.generate(f.vectors(), f.grids(), options)) out.add(nb.get(0));
        }
        return out;
    }

    public CaptionBatch build(List<TrainingSet.Pair> pairs) {
        int b = pairs.size();
        int t = 0;
        for (TrainingSet.Pair p : pairs) t = Math.max(t, p.tokens().length + 1);
        float[] in = new float[b * t], tgt = new float[b * t], mask = new float[b * t];
        long tokens = 0;
        for (int i = 0; i < b; i++) {
            int[] w = pairs.get(i).tokens();
            in[i * t] = Vocabulary.START;                            // step 0 reads <start>
            for (int s = 0; s < w.length; s++) {
                in[i * t + s + 1] = w[s];                            // step s+1 reads word s
                tgt[i * t + s] = w[s];                               // step s predicts word s
            }
            tgt[i * t + w.length] = Vocabulary.END;                  // last step predicts <end>
            for (int s = 0; s <= w.length; s++) mask[i * t + s] = 1;
            tokens += w.length + 1;
        }
        int[] rows = pairs.stream().mapToInt(TrainingSet.Pair::featureRow).toArray();
        return new CaptionBatch(Nd4j.create(in, new long[] {b, 1, t}, 'c'), Nd4j.create(tgt, new long[] {b, 1, t}, 'c'),
                Nd4j.create(mask, new long[] {b, t}, 'c'), vectors.rows(rows), grids == null ? null : grids.rows(rows), tokens);
    }
}
