package oneml.compare;

import java.util.List;
import java.util.Locale;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * A memory estimate per method for one model shape, batch size and sequence length, under the planner's attention
 * and gradient-checkpointing assumptions (named in the title).
 */
public record MemoryPlan(ModelShape shape, int batchSize, int sequenceLength, MemoryPlanner.Attention attention, boolean checkpointing,
        List<MemoryEstimate> estimates) {

    public MemoryPlan {
        estimates = List.copyOf(estimates);
    }

    public MemoryEstimate estimate(String method) {
        return estimates.stream().filter(e -> e.method().equals(method)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "no estimate for '" + method + "'; the plan has " + estimates.stream().map(MemoryEstimate::method).toList()));
    }

    /** The unit the table and chart use: GB when the largest total reaches 10 GB, else MB. */
    public String unit() {
        long max = estimates.stream().mapToLong(MemoryEstimate::total).max().orElse(0);
        return max >= 10e9 ? "GB" : "MB";
    }

    double scale() {
        return unit().equals("GB") ? 1e9 : 1e6;
    }

    /** One row per method: trainable parameters and each part of the memory, in {@link #unit()}. */
    public Table table() {
        String u = unit();
        double s = scale();
        StringColumn method = StringColumn.create("method");
        StringColumn precision = StringColumn.create("precision");
        LongColumn trainable = LongColumn.create("trainable_params");
        DoubleColumn weights = DoubleColumn.create("weights_" + u);
        DoubleColumn grads = DoubleColumn.create("gradients_" + u);
        DoubleColumn opt = DoubleColumn.create("optimizer_" + u);
        DoubleColumn acts = DoubleColumn.create("activations_" + u);
        DoubleColumn total = DoubleColumn.create("total_" + u);
        for (MemoryEstimate e : estimates) {
            method.append(e.method());
            precision.append(e.precision().label());
            trainable.append(e.trainableParams());
            weights.append(round(e.weights() / s));
            grads.append(round(e.gradients() / s));
            opt.append(round(e.optimizer() / s));
            acts.append(round(e.activations() / s));
            total.append(round(e.total() / s));
        }
        return Table.create(title(), method, precision, trainable, weights, grads, opt, acts, total);
    }

    public String title() {
        return String.format(Locale.ROOT, "Training memory for %s, batch %d x %d tokens; %s; %s", shape.name(), batchSize, sequenceLength,
                attention.label(), checkpointing ? "gradient checkpointing" : "no gradient checkpointing");
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    static String human(long bytes) {
        if (bytes >= 1e9) {
            return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
        }
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(title()).append(" (").append(shape).append(")");
        estimates.forEach(e -> s.append("\n  ").append(e));
        return s.toString();
    }
}
