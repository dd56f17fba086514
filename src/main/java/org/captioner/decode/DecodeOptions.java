package org.captioner.decode;

/**
 * How captions are generated.
 *
 * @param beam        beam width; 1 is greedy
 * @param nbest       how many hypotheses to return per image (at most the beam width)
 * @param lengthAlpha length normalisation: hypotheses are ranked by logP / length^alpha (0 = raw log-probability)
 * @param sample      draw words at random instead of searching
 * @param temperature sampling temperature (> 0)
 * @param topK        sample only among the k most probable words (0 = all)
 * @param maxLength   longest caption in words
 * @param allowUnk    whether {@code <unk>} may be generated (by default it never is)
 * @param seed        random seed for sampling
 * @param blockTrigrams beam search never repeats a word trigram within a caption (ImageCaptioning.pytorch's
 *                    {@code block_trigrams}): "a man in a red shirt in a red shirt" cannot be written
 */
public record DecodeOptions(int beam, int nbest, double lengthAlpha, boolean sample, double temperature, int topK,
                            int maxLength, boolean allowUnk, long seed, boolean blockTrigrams) implements java.io.Serializable {
    /** The widest beam any front end accepts (the CLI, the API, serve, Spark): wider ones only cost time here. */
    public static final int MAX_BEAM = 20;
    /** Every front end's default beam width and images per network call (strings: picocli defaults are text). */
    public static final String DEFAULT_BEAM = "3", DEFAULT_BATCH = "16";

    public DecodeOptions {
        check(beam, nbest, sample, temperature, topK, lengthAlpha);
        if (maxLength < 1 || maxLength > 100) throw new IllegalArgumentException("max length must be in [1, 100], got " + maxLength);
    }

    /** Without trigram blocking. */
    public DecodeOptions(int beam, int nbest, double lengthAlpha, boolean sample, double temperature, int topK, int maxLength,
                         boolean allowUnk, long seed) {
        this(beam, nbest, lengthAlpha, sample, temperature, topK, maxLength, allowUnk, seed, false);
    }

    /**
     * The one check of what a user asks for, whichever front end asked: each refuses an {@link IllegalArgumentException}
     * from here in its own way (a usage error, a 400). {@code lengthAlpha} may be null (the model's value).
     */
    public static void check(int beam, int nbest, boolean sample, double temperature, int topK, Double lengthAlpha) {
        if (beam < 1 || beam > MAX_BEAM) throw new IllegalArgumentException("beam must be in [1, " + MAX_BEAM + "], got " + beam);
        if (nbest < 1) throw new IllegalArgumentException("nbest must be >= 1, got " + nbest);
        if (!sample && nbest > beam) throw new IllegalArgumentException("nbest (" + nbest + ") cannot exceed beam (" + beam + ")");
        if (!(temperature >= 1e-3 && temperature <= 100)) throw new IllegalArgumentException("temperature must be in [0.001, 100], got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        if (lengthAlpha != null && !(lengthAlpha >= 0 && lengthAlpha <= 2)) {
            throw new IllegalArgumentException("length alpha must be in [0, 2], got " + lengthAlpha);
        }
    }

    public static DecodeOptions beam(int k) {
        return new DecodeOptions(k, 1, 0.0, false, 1.0, 0, 20, false, 42);
    }

    public static DecodeOptions greedy() {
        return beam(1);
    }

    public DecodeOptions withNbest(int n) {
        return new DecodeOptions(beam, n, lengthAlpha, sample, temperature, topK, maxLength, allowUnk, seed, blockTrigrams);
    }

    public DecodeOptions withLengthAlpha(double alpha) {
        return new DecodeOptions(beam, nbest, alpha, sample, temperature, topK, maxLength, allowUnk, seed, blockTrigrams);
    }

    public DecodeOptions withMaxLength(int n) {
        return new DecodeOptions(beam, nbest, lengthAlpha, sample, temperature, topK, n, allowUnk, seed, blockTrigrams);
    }

    public DecodeOptions withBlockTrigrams(boolean block) {
        return new DecodeOptions(beam, nbest, lengthAlpha, sample, temperature, topK, maxLength, allowUnk, seed, block);
    }

    public DecodeOptions sampling(double temperature, int topK, long seed) {
        return new DecodeOptions(1, 1, lengthAlpha, true, temperature, topK, maxLength, allowUnk, seed);
    }
}
