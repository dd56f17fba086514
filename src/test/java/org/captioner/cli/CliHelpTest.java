package org.captioner.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Every option of every command (the CLI's and the Spark jobs') is described, and --help shows the defaults. */
class CliHelpTest {
    static void collect(CommandLine cl, List<String> missing) {
        for (CommandLine.Model.OptionSpec o : cl.getCommandSpec().options()) {
            if (o.description().length == 0 || String.join("", o.description()).isBlank()) {
                missing.add(cl.getCommandSpec().qualifiedName() + " " + o.longestName());
            }
        }
        assertTrue(cl.getCommandSpec().usageMessage().showDefaultValues(), cl.getCommandSpec().qualifiedName());
        for (CommandLine sub : cl.getSubcommands().values()) collect(sub, missing);
    }

    @Test
    void everyOptionIsDescribedAndDefaultsShow() {
        List<String> missing = new ArrayList<>();
        collect(Main.commandLine(), missing);
        collect(Options.showDefaults(new CommandLine(new org.captioner.spark.SparkJobs())), missing);
        assertEquals(List.of(), missing, "options without a description");
        String help = Main.commandLine().getSubcommands().get("train").getUsageMessage();
        assertTrue(help.contains("Default: attention"), "train's decoder default is the bundled recipe's: " + help);
        assertTrue(help.contains("--no-progress"), help);
        String features = Main.commandLine().getSubcommands().get("features").getUsageMessage();
        assertTrue(features.contains("Default: mobilenetv2") && features.contains("--grid"), features);
        assertFalse(features.contains("--grid-dtype"), "former names are hidden: " + features);
        assertFalse(Main.commandLine().getSubcommands().get("evaluate").getUsageMessage().contains("--refs"));
    }

    @Test
    void formerNamesStillWork() {
        CommandLine cl = Main.commandLine();
        var r = cl.parseArgs("evaluate", "--refs", "refs.json", "--results", "r.jsonl");
        EvaluateCommand e = (EvaluateCommand) r.subcommand().commandSpec().userObject();
        assertEquals("refs.json", e.refs.toString());
        r = Main.commandLine().parseArgs("features", "--grid-dtype", "float32", "--out", "o", "x.jpg");
        assertEquals("float32", ((FeaturesCommand) r.subcommand().commandSpec().userObject()).gridDtype);
    }
}
