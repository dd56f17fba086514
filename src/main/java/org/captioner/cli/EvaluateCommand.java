package org.captioner.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "evaluate", mixinStandardHelpOptions = true, description = "Score captions against references (coco-caption metrics).")
public final class EvaluateCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("evaluate is not implemented yet");
    }
}
