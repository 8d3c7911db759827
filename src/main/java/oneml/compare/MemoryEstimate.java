package oneml.compare;

import java.util.Locale;

/**
 * What training one model with one method needs, in bytes: the weights as stored (frozen base, trainable copies,
 * fp32 master weights in mixed precision), their gradients, the optimiser's state and the activations kept for
 * the backward pass.
 */
public record MemoryEstimate(String method, MemoryPlanner.Precision precision, long trainableParams, long weights, long gradients,
        long optimizer, long activations) {

    public long total() {
        return weights + gradients + optimizer + activations;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s (%s): weights %s + gradients %s + optimizer %s + activations %s = %s", method,
                precision.label(), MemoryPlan.human(weights), MemoryPlan.human(gradients), MemoryPlan.human(optimizer),
                MemoryPlan.human(activations), MemoryPlan.human(total()));
    }
}
