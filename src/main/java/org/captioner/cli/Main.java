package org.captioner.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./captioner <command>}: the command-line entry point. */
@Command(name = "captioner", mixinStandardHelpOptions = true, version = "captioner 0.1.0",
        description = "Image captioning on the JVM (Deeplearning4j).",
        subcommands = {CaptionCommand.class, FeaturesCommand.class, TrainCommand.class, DecodeCommand.class, EvaluateCommand.class, BenchCommand.class, ServeCommand.class, SparkCommand.class, ModelsCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:some inputs failed (reported per item); the rest was done",
                "2:invalid command line", "3:nothing could run (no inputs, no weights, unreadable model)"})
public final class Main implements Runnable {
    public static final int EXIT_OK = 0, EXIT_PARTIAL = 1, EXIT_USAGE = 2, EXIT_FATAL = 3;

    @Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Show debug logs, including ND4J/DL4J/JavaCPP.")
    void setVerbose(boolean verbose) {
        verbose(verbose);
    }

    /** Quiet libraries (logback.xml: WARN) log at INFO and Captioner at DEBUG; also {@code captioner spark -v}. */
    public static void verbose(boolean verbose) {
        if (!verbose || !(LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext)) return;
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.DEBUG);
        for (String l : new String[] {"org.nd4j", "org.deeplearning4j", "org.datavec", "org.bytedeco", "io.jhdf", "io.javalin",
                "org.eclipse.jetty", "org.apache.spark", "org.sparkproject", "org.apache.hadoop", "org.apache.parquet"}) {
            ((Logger) LoggerFactory.getLogger(l)).setLevel(Level.INFO);
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    public static CommandLine commandLine() {
        CommandLine cl = Options.showDefaults(new CommandLine(new Main()));
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // Expected failures (bad files, missing weights) get one clear line, not a stack trace.
            cmd.getErr().println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            LoggerFactory.getLogger(Main.class).debug("stack trace", ex);
            return EXIT_FATAL;
        });
        return cl;
    }

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        System.exit(code);
    }
}
