package org.captioner.model;

import org.captioner.layers.AdditiveAttention;

import java.util.Random;

/**
 * Show, Attend and Tell's stochastic hard attention, the parts beside the attention layer's hard read: which cell each
 * step reads, and the REINFORCE and entropy terms that train the map (Xu et al. 2015, eq. 12).
 */
final class HardAttention {
    /**
     * As arctic-captions (the paper authors' code): REINFORCE term 1/10 of the log-likelihood's, entropy term 0.002; the
     * moving-average reward baseline decays by 0.9 a batch.
     */
    static final double REINFORCE = 0.1, ENTROPY = 0.002, BASELINE_DECAY = 0.9;

    private HardAttention() {
    }

    /**
     * How a pass picks cells: drawn from p_t (training), p_t itself (the paper's expected context, used for half the
     * training batches: soft attention), or the most likely cell (decoding, validation, and the policy-gradient step of
     * self-critical training, whose captions were sampled that way).
     */
    enum Mode { SAMPLE, EXPECTED, ARGMAX }

    /** A pass's choice; {@code cells} [T][B] and {@code advantage} [B] fix the draws (gradient checks). */
    record Choice(Mode mode, int[][] cells, double[] advantage) {
    }

    /** The attention layer's cell choice for a pass ({@code mode} null: soft attention; EXPECTED reads softly too). */
    static AdditiveAttention.CellChoice cells(Mode mode, Choice choice, Random rng) {
        if (mode == null || mode == Mode.EXPECTED) return null;
        if (mode == Mode.ARGMAX) return HardAttention::argmax;
        if (choice.cells() != null) return (t, b, p, off, l) -> choice.cells()[t][b];
        return (t, b, p, off, cells) -> {
            double u = rng.nextDouble(), acc = 0;
            for (int i = 0; i < cells; i++) {
                acc += p[off + i];
                if (u < acc) return i;
            }
            return cells - 1;                                                                // rounding: the last cell
        };
    }

    /** The most likely cell of p[off .. off+cells). */
    static int argmax(int t, int b, float[] p, int off, int cells) {
        int best = 0;
        for (int i = 1; i < cells; i++) if (p[off + i] > p[off + best]) best = i;
        return best;
    }

    /** The terms as a loss, and their gradient on each step's map [T][B*L]. */
    record Terms(double loss, double[][] dWeights) {
    }

    /**
     * lambda_r (log p(y|s,a) - b) d log p(s|a) (a surrogate loss -lambda_r A sum_t log p_t(s_t) with the advantage A held
     * constant) and the entropy bonus lambda_e H[p_t], both per target token as the cross-entropy. The context reads the
     * chosen cell and passes no gradient to p_t: these terms are p_t's gradient. {@code logLik}: per caption sum_t log p(w_t).
     */
    static Terms terms(AdditiveAttention.Step[] reads, LayerDecoder.Rows rows, double[] logLik, Choice choice, double baseline, int l) {
        int n = rows.n();
        double[] adv = new double[n];
        for (int b = 0; b < n; b++) adv[b] = choice.advantage() != null ? choice.advantage()[b] : logLik[b] - baseline;
        double perToken = 1.0 / rows.tokens(), loss = 0;
        double[][] dW = new double[rows.steps()][];
        for (int t = 0; t < rows.steps(); t++) {
            double[] p = reads[t].weights().dup('c').data().asDouble();                     // in the pass's precision
            dW[t] = new double[n * l];
            for (int b = 0; b < n; b++) {
                if (rows.mask()[t * n + b] == 0) continue;
                for (int i = 0; i < l; i++) {
                    double pi = Math.max(p[b * l + i], 1e-30), logp = Math.log(pi);
                    loss += ENTROPY * perToken * pi * logp;                                  // - lambda_e H
                    dW[t][b * l + i] += ENTROPY * perToken * (logp + 1);
                }
                if (choice.mode() == Mode.SAMPLE) {
                    int cell = reads[t].chosen()[b];
                    double pc = Math.max(p[b * l + cell], 1e-30);
                    loss -= REINFORCE * perToken * adv[b] * Math.log(pc);
                    dW[t][b * l + cell] -= REINFORCE * perToken * adv[b] / pc;
                }
            }
        }
        return new Terms(loss, dW);
    }
}
