package oneml.train;

import java.util.Locale;
import tech.tablesaw.api.Table;

/**
 * The record of a finished run: per-step history (step, loss, learning_rate, grad_norm, tokens, tokens_per_s,
 * elapsed_s), validations (step, val_loss, val_perplexity), how it ended, and summary figures.
 */
public record TrainingRun(
        TrainConfig config,
        Table history,
        Table evaluations,
        StopReason stopReason,
        String message,
        int stepsRun,
        double seconds,
        long trainableParameters,
        long tokensSeen,
        double bestValidationLoss,
        int bestStep) {

    /** Tokens per second of the whole run, validations included. */
    public double tokensPerSecond() {
        return seconds > 0 ? tokensSeen / seconds : 0;
    }

    /** Seconds spent in optimiser steps only (forward, backward, update), without validations. */
    public double trainingSeconds() {
        if (!history.containsColumn("tokens_per_s") || !history.containsColumn("tokens")) {
            return Double.NaN; // a history made by hand, without timings
        }
        double sum = 0;
        for (int i = 0; i < history.rowCount(); i++) {
            double tps = history.doubleColumn("tokens_per_s").getDouble(i);
            sum += tps > 0 ? history.doubleColumn("tokens").getDouble(i) / tps : 0;
        }
        return sum;
    }

    /** Training throughput: tokens per second of the optimiser steps, without validations. */
    public double trainingTokensPerSecond() {
        double s = trainingSeconds();
        return s > 0 ? tokensSeen / s : 0;
    }

    /**
     * Training throughput as a benchmark states it: the median over the steps after a warm-up (the first fifth of the
     * run, at most 5 steps: JIT compilation, first allocations) of each step's tokens per second. One slow step (a
     * garbage collection, another program's burst) moves a mean; it does not move a median.
     */
    public double steadyTokensPerSecond() {
        int n = history.rowCount();
        if (n == 0 || !history.containsColumn("tokens_per_s")) {
            return 0;
        }
        int warmup = Math.min(5, n / 5);
        double[] tps = java.util.Arrays.copyOfRange(history.doubleColumn("tokens_per_s").asDoubleArray(), warmup, n);
        java.util.Arrays.sort(tps);
        int m = tps.length;
        return m % 2 == 1 ? tps[m / 2] : (tps[m / 2 - 1] + tps[m / 2]) / 2;
    }

    /** Mean training loss over the last tenth of the steps (a single step's loss is noisy). */
    public double finalTrainLoss() {
        int n = history.rowCount();
        if (n == 0) {
            return Double.NaN;
        }
        int from = Math.max(0, n - Math.max(1, n / 10));
        double sum = 0;
        for (int i = from; i < n; i++) {
            sum += history.doubleColumn("loss").getDouble(i);
        }
        return sum / (n - from);
    }

    /** The first validation loss (before much training), for before/after comparisons. */
    public double firstValidationLoss() {
        return evaluations.rowCount() == 0 ? Double.NaN : evaluations.doubleColumn("val_loss").getDouble(0);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "TrainingRun(%s after %d steps in %.1f s, %,.0f tok/s in a median training step, final train loss %.4f, best val loss %.4f at step %d%s)",
                stopReason, stepsRun, seconds, steadyTokensPerSecond(), finalTrainLoss(), bestValidationLoss, bestStep,
                message == null || message.isEmpty() ? "" : "; " + message);
    }
}
