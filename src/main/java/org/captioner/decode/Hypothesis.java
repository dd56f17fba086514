package org.captioner.decode;

import java.util.List;

/**
 * One generated caption.
 *
 * @param tokens    word ids, without {@code <start>}/{@code <end>}
 * @param logProb   total log-probability, the {@code <end>} step included
 * @param attention per generated word (and the final {@code <end>}), the attention weights over grid cells; empty without attention
 */
public record Hypothesis(int[] tokens, double logProb, List<float[]> attention) {
    public double normalizedScore(double alpha) {
        return alpha == 0 ? logProb : logProb / Math.pow(tokens.length + 1, alpha);
    }
}
