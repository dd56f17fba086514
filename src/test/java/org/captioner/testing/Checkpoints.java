package org.captioner.testing;

import org.captioner.train.TrainingState;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;

/** Reads a training run's last checkpoint in tests. */
public final class Checkpoints {
    private Checkpoints() {
    }

    /** The parameters of a run's last checkpoint, from the file its state names: every array, flattened, in file order. */
    public static INDArray params(Path run) throws IOException {
        TrainingState st = TrainingState.load(run.resolve("checkpoint/state.json"));
        java.util.List<INDArray> arrays = new java.util.ArrayList<>();
        try (var zip = new java.util.zip.ZipInputStream(java.nio.file.Files.newInputStream(run.resolve("checkpoint").resolve(st.decoderFile)))) {
            for (var e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                if (e.getName().startsWith("params/")) arrays.add(org.nd4j.linalg.factory.Nd4j.read(new java.io.DataInputStream(zip)).reshape(1, -1));
            }
        }
        return org.nd4j.linalg.factory.Nd4j.hstack(arrays.toArray(INDArray[]::new));
    }
}
