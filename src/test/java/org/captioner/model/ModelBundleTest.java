package org.captioner.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.encoder.NativeSetup;
import org.captioner.text.Vocabulary;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ModelBundleTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void setup() {
        NativeSetup.init();
    }

    Path save() throws IOException {
        Vocabulary v = Vocabulary.build(List.of("a dog runs", "a cat sits", "a dog sits"), 1);
        CaptionDecoder d = Decoders.create(new DecoderConfig(DecoderType.LSTM, v.size(), 8, 4, 4, 8, 0.5, 20, 4, 4, 4), 1e-3, 1);
        Path b = dir.resolve("bundle");
        ModelBundle.save(b, d, v, "squeezenet", "abc123", new ObjectMapper().createObjectNode().put("best_epoch", 1));
        return b;
    }

    @Test
    void roundTripKeepsEverything() throws Exception {
        Path b = save();
        ModelBundle m = ModelBundle.load(b);
        assertEquals(DecoderType.LSTM, m.config().type());
        assertEquals(m.vocabulary().size(), m.config().vocabSize());
        assertEquals("abc123", m.encoderWeightsSha256());
        assertEquals(1, m.training().get("best_epoch").asInt());
        DecodingState s = m.decoder().start(Nd4j.rand(2, 8), null);
        assertArrayEquals(new long[] {2, m.vocabulary().size()}, m.decoder().step(s, new int[] {1, 1}).shape());
    }

    @Test
    void corruptOrMismatchedBundlesAreRefusedClearly() throws Exception {
        Path b = save();
        byte[] zip = Files.readAllBytes(b.resolve("decoder.zip"));
        zip[zip.length / 2] ^= 0x55;
        Files.write(b.resolve("decoder.zip"), zip);
        IOException e = assertThrows(IOException.class, () -> ModelBundle.load(b));
        assertTrue(e.getMessage().contains("decoder.zip does not match its checksum"), e.getMessage());

        Path b2 = dir.resolve("b2");
        Files.createDirectories(b2);
        assertTrue(assertThrows(IOException.class, () -> ModelBundle.load(b2)).getMessage().contains("no config.json"));
        assertTrue(assertThrows(IOException.class, () -> ModelBundle.load(dir.resolve("none"))).getMessage().contains("not a folder"));
    }

    @Test
    void vocabularyMismatchIsDetected() throws Exception {
        Path b = save();
        Vocabulary other = Vocabulary.build(List.of("completely different words here"), 1);
        other.save(b.resolve("vocab.json"));
        // Refresh the checksum so that only the size mismatch remains.
        var cfg = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(b.resolve("config.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) cfg.get("sha256")).put("vocab.json", org.captioner.util.Hashing.sha256(b.resolve("vocab.json")));
        Files.writeString(b.resolve("config.json"), cfg.toString());
        IOException e = assertThrows(IOException.class, () -> ModelBundle.load(b));
        assertTrue(e.getMessage().contains("vocabulary has") && e.getMessage().contains("decoder was built for"), e.getMessage());
    }

    @Test
    void attentionMapIsRecordedAndOlderBundlesReadAsSoftmax() throws Exception {
        Vocabulary v = Vocabulary.build(List.of("a dog runs", "a cat sits", "a dog sits"), 1);
        CaptionDecoder d = Decoders.create(new DecoderConfig(DecoderType.ATTENTION, v.size(), 8, 4, 4, 8, 0.5, 20, 4, 3, 4,
                AttentionMap.SPARSEMAX), 1e-3, 1);
        Path b = dir.resolve("att");
        ModelBundle.save(b, d, v, "mobilenetv2", "abc123", new ObjectMapper().createObjectNode());
        assertEquals(AttentionMap.SPARSEMAX, ModelBundle.load(b).config().attentionMap());
        DecodingState s = ModelBundle.load(b).decoder().start(Nd4j.rand(2, 8), Nd4j.rand(2, 4, 3));
        ModelBundle.load(b).decoder().step(s, new int[] {1, 1});

        var cfg = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(b.resolve("config.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) cfg.get("decoder")).remove("attention_map");   // as saved before it existed
        Files.writeString(b.resolve("config.json"), cfg.toString());
        assertEquals(AttentionMap.SOFTMAX, ModelBundle.load(b).config().attentionMap());

        ((com.fasterxml.jackson.databind.node.ObjectNode) cfg.get("decoder")).put("attention_map", "hardmax");
        Files.writeString(b.resolve("config.json"), cfg.toString());
        IOException e = assertThrows(IOException.class, () -> ModelBundle.load(b));
        assertTrue(e.getMessage().contains("unknown attention map 'hardmax'"), e.getMessage());
    }

    /** gru and stacked decoders keep their layer count; a decoder file that disagrees with config.json is refused. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"GRU,1", "GRU,2", "LSTM,2", "RNN,3"})
    void recurrentLayersRoundTripAndMismatchesAreRefused(DecoderType type, int layers) throws Exception {
        Vocabulary v = Vocabulary.build(List.of("a dog runs", "a cat sits", "a dog sits"), 1);
        CaptionDecoder d = Decoders.create(new DecoderConfig(type, v.size(), 8, 4, 4, 8, 0.5, 20, 4, 4, 4).withLayers(layers), 1e-3, 1);
        Path b = dir.resolve(type.id() + layers);
        ModelBundle.save(b, d, v, "mobilenetv2", "abc123", new ObjectMapper().createObjectNode());
        ModelBundle m = ModelBundle.load(b);
        assertEquals(type, m.config().type());
        assertEquals(layers, m.config().layers());
        assertEquals(d.parameterCount(), m.decoder().parameterCount());
        var in = Nd4j.rand(2, 8);
        var want = d.step(d.start(in, null), new int[] {1, 2});
        var got = m.decoder().step(m.decoder().start(in, null), new int[] {1, 2});
        assertTrue(want.equalsWithEps(got, 2e-3), "float16 bundle gives other probabilities: " + want + " vs " + got);

        var cfg = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(b.resolve("config.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) cfg.get("decoder")).put("layers", layers + 1);
        Files.writeString(b.resolve("config.json"), cfg.toString());
        IOException e = assertThrows(IOException.class, () -> ModelBundle.load(b));
        assertTrue(e.getMessage().contains("layer"), e.getMessage());
    }
}
