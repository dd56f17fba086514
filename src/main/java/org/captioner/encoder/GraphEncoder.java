package org.captioner.encoder;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * An {@link ImageEncoder} backed by a DL4J {@link ComputationGraph}: the grid is read from one vertex,
 * the vector from another vertex or, when {@code vectorVertex} is null, as the mean over grid cells.
 */
public final class GraphEncoder implements ImageEncoder {
    private final EncoderType type;
    private final ComputationGraph graph;
    private final String gridVertex;
    private final String vectorVertex;
    private final String weightsSource;
    private final String weightsSha256;
    /** The graph takes and gives channels-last tensors (images still arrive as [B, 3, H, W]). */
    private final boolean nhwc;

    public GraphEncoder(EncoderType type, ComputationGraph graph, String gridVertex, String vectorVertex,
                        String weightsSource, String weightsSha256) {
        this(type, graph, gridVertex, vectorVertex, weightsSource, weightsSha256, false);
    }

    /** @param nhwc the graph works channels-last: images are transposed on the way in, the grid needs no transpose */
    public GraphEncoder(EncoderType type, ComputationGraph graph, String gridVertex, String vectorVertex,
                        String weightsSource, String weightsSha256, boolean nhwc) {
        this.type = type;
        this.graph = graph;
        this.gridVertex = gridVertex;
        this.vectorVertex = vectorVertex;
        this.weightsSource = weightsSource;
        this.weightsSha256 = weightsSha256;
        this.nhwc = nhwc;
    }

    @Override
    public void close() {
        graph.close();
    }

    @Override
    public EncoderType type() {
        return type;
    }

    @Override
    public String weightsSource() {
        return weightsSource;
    }

    @Override
    public String weightsSha256() {
        return weightsSha256;
    }

    public ComputationGraph graph() {
        return graph;
    }

    @Override
    public EncodedBatch encode(INDArray images) {
        long b = images.size(0);
        List<String> wanted = new ArrayList<>(List.of(gridVertex));
        if (vectorVertex != null) wanted.add(vectorVertex);
        INDArray[] out;
        // ComputationGraph is not safe for concurrent forward passes.
        synchronized (graph) {
            out = graph.output(wanted, false, new INDArray[] {nhwc ? images.permute(0, 2, 3, 1).dup('c') : images}, null);
        }
        INDArray fmap = out[0];
        INDArray grid;
        if (nhwc) {                                                // [B, side, side, C]
            grid = fmap.reshape('c', b, fmap.size(1) * fmap.size(2), fmap.size(3)).dup('c'); // [B, cells, C]
        } else {                                                   // [B, C, side, side]
            long c = fmap.size(1), cells = fmap.size(2) * fmap.size(3);
            grid = fmap.reshape('c', b, c, cells)                  // [B, C, cells]
                    .permute(0, 2, 1).dup('c');                    // [B, cells, C]
        }
        INDArray vectors = vectorVertex == null
                ? grid.mean(1)                                     // [B, C]: mean over cells
                : out[1].reshape(b, out[1].length() / b);          // [B, D]
        return new EncodedBatch(vectors, grid);
    }
}
