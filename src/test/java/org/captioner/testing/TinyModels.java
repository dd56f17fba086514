package org.captioner.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.encoder.NativeSetup;
import org.captioner.model.DecoderConfig;
import org.captioner.model.DecoderType;
import org.captioner.model.Decoders;
import org.captioner.model.ModelBundle;
import org.captioner.text.Vocabulary;
import org.captioner.util.Hashing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Model bundles for front-end tests: real encoder weights from ../shared, a small untrained decoder. */
public final class TinyModels {
    private TinyModels() {
    }

    /**
     * A SqueezeNet attention model under dir/model (its captions are nonsense but deterministic, and it has attention
     * maps): what the serve and Spark tests caption with.
     */
    public static Path squeezenetAttention(Path dir, String provenance) throws IOException {
        NativeSetup.init();
        Path weights = SharedData.squeezenetWeights();
        Vocabulary v = Vocabulary.build(List.of("a dog runs on the grass", "a man rides a bike", "children play in the water"), 1);
        var dec = Decoders.create(DecoderConfig.defaults(DecoderType.ATTENTION, v.size(), 512, 169, 512).withSizes(16, 32, 0, 8), 1e-3, 0, 7);
        Path model = dir.resolve("model");
        ModelBundle.save(model, dec, v, "squeezenet", Hashing.sha256(weights), new ObjectMapper().createObjectNode().put("data", provenance));
        return model;
    }
}
