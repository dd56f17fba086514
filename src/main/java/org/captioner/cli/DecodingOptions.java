package org.captioner.cli;

import org.captioner.decode.DecodeOptions;
import org.captioner.pipeline.CaptionPipeline;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The decoding options of {@code caption}, {@code serve}, {@code bench} and the Spark caption job (a picocli mixin,
 * declared once), mapped onto {@link DecodeOptions}, whose {@link DecodeOptions#check} is the only validator.
 */
public final class DecodingOptions {
    @Mixin
    public BeamOptions search = new BeamOptions();
    @Option(names = "--nbest", defaultValue = "1", description = "Also list the n best captions.")
    public int nbest;
    @Option(names = "--sample", description = "Sample captions instead of searching.")
    public boolean sample;
    @Option(names = "--temperature", defaultValue = "1.0", description = {"With --sample: divides the log-probabilities before sampling",
            "(below 1: safer words, above 1: more varied)."})
    public double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "Sample among the k likeliest words (0 = all).")
    public int topK;
    @Option(names = "--seed", defaultValue = "42", description = "With --sample: random seed (the same seed gives the same captions).")
    public long seed;

    /** Checks the options: a wrong one is a usage error (exit 2) naming it. */
    public void check(CommandLine.Model.CommandSpec spec) {
        try {
            DecodeOptions.check(search.beam, nbest, sample, temperature, topK, search.lengthAlpha);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** The options for a model (its maximum length and, unless given, its recommended length normalisation). */
    public DecodeOptions resolve(CaptionPipeline p) {
        return p.options(search.beam, nbest, search.lengthAlpha, sample, temperature, topK, seed).withBlockTrigrams(search.blockTrigrams);
    }
}
