package org.captioner.cli;

import picocli.CommandLine;

/** Checks shared by commands (out-of-range options are usage errors, exit 2, naming the option) and help settings. */
public final class Options {
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

    /** An option picocli cannot mark required because a hidden former name sets it too. */
    static void required(CommandLine.Model.CommandSpec spec, String name, Object value) {
        if (value == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '" + name + "'");
        }
    }

    /** Every option's default in every command's --help. */
    public static CommandLine showDefaults(CommandLine cl) {
        cl.getCommandSpec().usageMessage().showDefaultValues(true);
        for (CommandLine sub : cl.getSubcommands().values()) showDefaults(sub);
        return cl;
    }
}
