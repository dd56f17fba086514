package org.captioner.cli;

import picocli.CommandLine;

/** Range checks shared by commands: out-of-range options are usage errors (exit 2) naming the option. */
final class Options {
    private Options() {
    }

    static void positive(CommandLine.Model.CommandSpec spec, String name, int value) {
        if (value < 1) throw new CommandLine.ParameterException(spec.commandLine(), name + " must be >= 1, got " + value);
    }

    static void range(CommandLine.Model.CommandSpec spec, String name, double value, double lo, double hi) {
        if (!(value >= lo && value <= hi)) {
            throw new CommandLine.ParameterException(spec.commandLine(), name + " must be in [" + lo + ", " + hi + "], got " + value);
        }
    }
}
