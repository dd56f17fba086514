package org.captioner.cli;

import picocli.CommandLine.Option;

/** {@code --beam}, {@code --length-alpha} and {@code --block-trigrams}: how the caption search ranks (a picocli mixin, declared once). */
public final class BeamOptions {
    @Option(names = "--beam", defaultValue = org.captioner.decode.DecodeOptions.DEFAULT_BEAM, description = "Beam width (1 = greedy).")
    public int beam;
    @Option(names = "--length-alpha", description = {"Beam length normalisation: rank by logP / length^alpha",
            "(default: the model's recommended value, recorded in its config.json; 0 = raw log-probability)."})
    public Double lengthAlpha;
    @Option(names = "--block-trigrams", description = "Never repeat a word trigram within a caption (beam search).")
    public boolean blockTrigrams;

    /** Beam search with these options for a model (its maximum length; its recommended length alpha unless given). */
    public org.captioner.decode.DecodeOptions resolve(org.captioner.model.ModelBundle m) {
        return m.decodeOptions(beam, 1, lengthAlpha, false, 1.0, 0, 0).withBlockTrigrams(blockTrigrams);
    }

    /** Checks the options ({@link org.captioner.decode.DecodeOptions#check}): a wrong one is a usage error naming it. */
    public void check(picocli.CommandLine.Model.CommandSpec spec) {
        try {
            org.captioner.decode.DecodeOptions.check(beam, 1, false, 1.0, 0, lengthAlpha);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
