package org.captioner.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.captioner.text.Vocabulary;
import org.captioner.util.AtomicFiles;
import org.captioner.util.Hashing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A trained captioning model as one self-describing folder:
 * <pre>
 *   config.json    decoder type and sizes, encoder name + SHA-256 of its weights, checksums of the files below
 *   vocab.json     the vocabulary
 *   decoder.zip    decoder parameters (DL4J ModelSerializer)
 *   training.json  provenance: data, splits, options, epochs, dev scores, versions (as Tribuo keeps with each model)
 * </pre>
 * Loading verifies every checksum and that vocabulary, configuration and network agree.
 */
public final class ModelBundle {
    public static final String CONFIG = "config.json", VOCAB = "vocab.json", DECODER = "decoder.zip", TRAINING = "training.json";
    static final String FORMAT = "captioner-model/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final DecoderConfig config;
    private double lengthAlpha;
    private final Vocabulary vocabulary;
    private final CaptionDecoder decoder;
    private final String encoder;
    private final String encoderWeightsSha256;
    private final JsonNode training;

    private ModelBundle(Path dir, DecoderConfig config, Vocabulary vocabulary, CaptionDecoder decoder, String encoder,
                        String encoderWeightsSha256, JsonNode training) {
        this.dir = dir;
        this.config = config;
        this.vocabulary = vocabulary;
        this.decoder = decoder;
        this.encoder = encoder;
        this.encoderWeightsSha256 = encoderWeightsSha256;
        this.training = training;
    }

    public Path dir() {
        return dir;
    }

    public DecoderConfig config() {
        return config;
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    public CaptionDecoder decoder() {
        return decoder;
    }

    /** Encoder the decoder was trained on (e.g. "squeezenet"). */
    public String encoder() {
        return encoder;
    }

    public String encoderWeightsSha256() {
        return encoderWeightsSha256;
    }

    public JsonNode training() {
        return training;
    }

    /** Writes a bundle atomically file by file; config.json (with the checksums) goes last, so a half-written bundle never loads. */
    public static void save(Path dir, CaptionDecoder decoder, Vocabulary vocab, String encoder, String encoderSha, JsonNode training) throws IOException {
        Files.createDirectories(dir);
        decoder.save(dir.resolve(DECODER), false);
        vocab.save(dir.resolve(VOCAB));
        AtomicFiles.writeString(dir.resolve(TRAINING), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(training) + "\n");
        DecoderConfig c = decoder.config();
        ObjectNode n = JSON.createObjectNode();
        n.put("format", FORMAT);
        ObjectNode d = n.putObject("decoder");
        d.put("type", c.type().id());
        d.put("vocab_size", c.vocabSize());
        d.put("image_dim", c.imageDim());
        d.put("embed_size", c.embedSize());
        d.put("image_projection", c.imageProjection());
        d.put("hidden", c.hidden());
        d.put("dropout", c.dropout());
        d.put("max_length", c.maxLength());
        d.put("grid_cells", c.gridCells());
        d.put("grid_channels", c.gridChannels());
        d.put("attention_size", c.attentionSize());
        if (c.type().attends()) d.put("attention_map", c.attentionMap().id());
        if (c.contextProjection() > 0) d.put("context_projection", c.contextProjection());
        else d.put("layers", c.layers());
        d.put("parameters", decoder.parameterCount());
        ObjectNode e = n.putObject("encoder");
        e.put("name", encoder);
        e.put("weights_sha256", encoderSha);
        ObjectNode f = n.putObject("sha256");
        for (String file : new String[] {DECODER, VOCAB, TRAINING}) f.put(file, Hashing.sha256(dir.resolve(file)));
        AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
    }

    private static AttentionMap attentionMap(Path dir, String id) throws IOException {
        try {
            return AttentionMap.parse(id);
        } catch (IllegalArgumentException e) {
            throw new IOException("model " + dir + ": " + e.getMessage());
        }
    }

    public static ModelBundle load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException("model " + dir + " is not a folder");
        Path cfg = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfg)) throw new IOException(dir + " is not a Captioner model: no " + CONFIG);
        JsonNode n;
        try {
            n = JSON.readTree(cfg.toFile());
        } catch (IOException e) {
            throw new IOException("corrupt model " + dir + ": " + CONFIG + " is not valid JSON (" + e.getMessage() + ")", e);
        }
        if (!FORMAT.equals(n.path("format").asText())) {
            throw new IOException(dir + ": unknown model format '" + n.path("format").asText() + "' (expected " + FORMAT + ")");
        }
        for (String file : new String[] {DECODER, VOCAB, TRAINING}) {
            Path p = dir.resolve(file);
            if (!Files.isRegularFile(p)) throw new IOException("corrupt model " + dir + ": " + file + " is missing");
            String want = n.path("sha256").path(file).asText();
            if (!want.equals(Hashing.sha256(p))) throw new IOException("corrupt model " + dir + ": " + file + " does not match its checksum in " + CONFIG);
        }
        JsonNode d = n.path("decoder");
        DecoderType type = DecoderType.parse(d.path("type").asText());
        DecoderConfig c = new DecoderConfig(type, d.path("vocab_size").asInt(), d.path("image_dim").asInt(), d.path("embed_size").asInt(),
                d.path("image_projection").asInt(), d.path("hidden").asInt(), d.path("dropout").asDouble(), d.path("max_length").asInt(),
                d.path("grid_cells").asInt(), d.path("grid_channels").asInt(), d.path("attention_size").asInt(),
                attentionMap(dir, d.path("attention_map").asText("softmax")), d.path("layers").asInt(1), d.path("context_projection").asInt(0));
        Vocabulary vocab = Vocabulary.load(dir.resolve(VOCAB));
        if (vocab.size() != c.vocabSize()) {
            throw new IOException("model " + dir + ": vocabulary has " + vocab.size() + " words but the decoder was built for " + c.vocabSize());
        }
        CaptionDecoder dec = Decoders.load(c, dir.resolve(DECODER), false);
        ModelBundle b = new ModelBundle(dir, c, vocab, dec, n.path("encoder").path("name").asText(), n.path("encoder").path("weights_sha256").asText(),
                JSON.readTree(dir.resolve(TRAINING).toFile()));
        b.lengthAlpha = n.path("decoding").path("length_alpha").asDouble(0);
        return b;
    }

    /**
     * The beam length normalisation chosen for this model on its dev split ({@code decode --tune-length-alpha}),
     * used when a caller does not set one; 0 (raw log-probability) when none was chosen.
     */
    public double recommendedLengthAlpha() {
        return lengthAlpha;
    }

    /**
     * Decoding options for this model: its maximum caption length and, unless {@code lengthAlpha} is given, its
     * recommended length normalisation. The one place a front end's options meet a model.
     */
    public org.captioner.decode.DecodeOptions decodeOptions(int beam, int nbest, Double lengthAlpha, boolean sample, double temperature,
                                                            int topK, long seed) {
        double alpha = lengthAlpha != null ? lengthAlpha : recommendedLengthAlpha();
        return new org.captioner.decode.DecodeOptions(sample ? 1 : beam, nbest, alpha, sample, temperature, topK, config().maxLength(), false, seed);
    }

    /** Records the recommended length normalisation in config.json (atomically; the other files are untouched). */
    public static void recommendLengthAlpha(Path dir, double alpha, String how) throws IOException {
        ObjectNode n = (ObjectNode) JSON.readTree(dir.resolve(CONFIG).toFile());
        ObjectNode d = n.putObject("decoding");
        d.put("length_alpha", alpha);
        d.put("chosen_by", how);
        AtomicFiles.writeString(dir.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
    }
}
