package org.captioner.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.captioner.util.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Where a run is: enough to resume exactly (same epoch, same batch order, same learning rate, same best-so-far). */
public final class TrainingState {
    public int epoch = 1;              // epoch in progress (1-based)
    public int batchInEpoch = 0;       // batches of this epoch already done
    public long step = 0;              // optimisation steps so far
    public double learningRate;
    public double bestScore = Double.NEGATIVE_INFINITY; // best dev CIDEr-D
    public int bestEpoch = 0;
    public int epochsWithoutImprovement = 0;
    public double epochLossSum = 0;    // running sums of the epoch in progress
    public long epochTokens = 0;
    public double epochTrainSeconds = 0;
    public String scstOptimizer;       // self-critical training: where its Adam state came from
    public double epochRewardSum = 0;  // self-critical training: sum of sampled captions' rewards, and their count
    public long epochSamples = 0;
    public double startScore = Double.NaN; // self-critical training: the starting model's dev CIDEr-D
    public boolean finished = false;
    public String decoderFile;         // the checkpoint's parameters (checkpoint/decoder-STEP.zip)
    public List<Map<String, Object>> history = new ArrayList<>();

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public void save(Path file) throws IOException {
        AtomicFiles.writeString(file, JSON.writeValueAsString(this) + "\n");
    }

    public static TrainingState load(Path file) throws IOException {
        return JSON.readValue(file.toFile(), TrainingState.class);
    }

    public Map<String, Object> newHistoryRow() {
        Map<String, Object> m = new LinkedHashMap<>();
        history.add(m);
        return m;
    }
}
