package org.captioner.train;

import java.nio.file.Path;

/**
 * Self-critical fine-tuning ({@code train --scst}): the cross-entropy model to start from (a model folder, or a
 * training run's folder, which holds its best model), samples per image, and the reward baseline.
 */
public record ScstOptions(Path init, int samples, SelfCritical.Baseline baseline) {
    public ScstOptions {
        if (init == null) throw new IllegalArgumentException("--scst needs --init MODEL (the cross-entropy model to fine-tune)");
        SelfCritical.check(samples, baseline);
    }
}
