package oneml.compare;

import java.util.Locale;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Table;

/**
 * What one method measured in a comparison. {@code modelBytes} is the model in its training form, counted: the base's
 * arrays as held (4-bit codes and scales for QLoRA's linear weights, float32 otherwise) plus the method's trainable
 * arrays. {@code peakBytes} is the model plus what training added, measured: the process RSS high-water mark while
 * training (gradients, optimiser state, activations) above the resident set once the model was in its training form,
 * where the high-water mark is reset (after garbage collection and handing free pages back): it cannot fall below
 * zero when the JVM hands memory back before training starts. Run in one JVM after other methods, the training
 * part can read low (memory they freed is reused without the RSS growing); {@code ./oneml compare} runs each method in
 * a JVM of its own.
 *
 * @param adapterBytes      size of the saved adapter_model.safetensors (for full fine-tuning: the float32 checkpoint)
 * @param baseBitsPerParam  storage of the frozen linear weights: 32 for float32, about 4.1 for QLoRA's NF4
 * @param trainSeconds      time in optimiser steps only
 * @param tokensPerSecond   the median step's tokens per second after warm-up steps (validations not counted)
 * @param metric            exact-match accuracy of greedy answers on the test rows scored
 * @param curve             per step: step, loss
 * @param validations       per validation: step, val_loss
 * @param otherLoad         the share of the machine's CPU time (0-1) other processes used while this method trained; above
 *                          {@link MachineLoad#BUSY} its speed is marked as measured on a busy machine (NaN: unknown)
 */
public record MethodResult(
        String name,
        String label,
        Status status,
        String message,
        double learningRate,
        long trainableParams,
        long allParams,
        long adapterBytes,
        double baseBitsPerParam,
        long modelBytes,
        long peakBytes,
        double trainSeconds,
        double tokensPerSecond,
        int steps,
        double finalTrainLoss,
        double firstValLoss,
        double bestValLoss,
        double metric,
        Table curve,
        Table validations,
        double otherLoad) {

    /** How a method's run ended. */
    public enum Status {
        /** Trained every step (or stopped early on validation loss) and was scored. */
        OK,
        /** The loss became NaN or infinite; the best values were scored. */
        DIVERGED,
        /** The comparison was interrupted during this method. */
        INTERRUPTED,
        /** An error stopped this method; the message says which. */
        FAILED,
        /** Not run, because the comparison was interrupted earlier. */
        SKIPPED
    }

    /** A row for a method that did not produce numbers, with the reason. */
    public static MethodResult notRun(Candidate c, Status status, String message) {
        return new MethodResult(c.name(), c.label(), status, message, c.learningRate(), 0, 0, 0, Double.NaN, 0, 0, Double.NaN, Double.NaN, 0,
                Double.NaN, Double.NaN, Double.NaN, Double.NaN, emptyCurve(), emptyValidations(), Double.NaN);
    }

    static Table emptyCurve() {
        return Table.create("curve", DoubleColumn.create("step"), DoubleColumn.create("loss"));
    }

    static Table emptyValidations() {
        return Table.create("validations", DoubleColumn.create("step"), DoubleColumn.create("val_loss"));
    }

    /** True when the method trained and was scored (possibly after diverging, with its best values). */
    public boolean hasNumbers() {
        return status == Status.OK || status == Status.DIVERGED || status == Status.INTERRUPTED && steps > 0;
    }

    /** Whether other processes kept the machine busy while this method trained (its speed is then unreliable). */
    public boolean measuredOnBusyMachine() {
        return otherLoad > MachineLoad.BUSY;
    }

    public double trainablePercent() {
        return allParams == 0 ? Double.NaN : 100.0 * trainableParams / allParams;
    }

    @Override
    public String toString() {
        if (!hasNumbers()) {
            return name + " (" + label + "): " + status + (message.isEmpty() ? "" : ": " + message);
        }
        return String.format(Locale.ROOT,
                "%s (%s): %,d trainable (%.3f%%), peak %.1f MB, %,.0f tok/s%s, final loss %.4f, best val loss %.4f, accuracy %.3f%s",
                name, label, trainableParams, trainablePercent(), peakBytes / 1e6, tokensPerSecond,
                measuredOnBusyMachine() ? String.format(Locale.ROOT, " (busy machine: others used %.0f%% of the CPUs)", 100 * otherLoad) : "",
                finalTrainLoss, bestValLoss, metric, status == Status.OK ? "" : " [" + status + "]");
    }
}
