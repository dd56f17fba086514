package org.captioner.testing;

import org.captioner.train.TrainingState;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;

/** Reads a training run's last checkpoint in tests. */
public final class Checkpoints {
    private Checkpoints() {
    }

    /** The parameters of a run's last checkpoint (rnn/lstm: a DL4J graph), from the file its state names. */
    public static INDArray params(Path run) throws IOException {
        TrainingState st = TrainingState.load(run.resolve("checkpoint/state.json"));
        return org.deeplearning4j.util.ModelSerializer.restoreComputationGraph(run.resolve("checkpoint").resolve(st.decoderFile).toFile(), false).params();
    }
}
