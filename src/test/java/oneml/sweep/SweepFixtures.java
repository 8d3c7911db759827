package oneml.sweep;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import oneml.compare.MethodResult;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Table;

/** Sweep results made by hand (no training): planned trials with measurements that follow from their fields and seed. */
public final class SweepFixtures {
    private SweepFixtures() {}

    /** LoRA r in {4, 16} x learning rate in {0.002, 0.01}, 3 seeds, and IA3 alone with 3 seeds: 15 trials. */
    public static Sweep sweep() {
        return Sweep.tiny("sentiment").add(Space.lora().r(4, 16).learningRate(2e-3, 1e-2), Space.ia3()).seeds(3);
    }

    /** A made-up best validation loss: lower for larger r and learning rate, different per seed. */
    public static double loss(Trial t) {
        double r = t.config().containsKey("r") ? ((Number) t.config().get("r")).doubleValue() : 2;
        return 2.0 / Math.log(r + 1) + 0.01 / t.learningRate() * 0.01 + 0.05 * ((t.seed() * 7) % 5);
    }

    /** A made-up accuracy: higher for larger r, different per seed. */
    public static double accuracy(Trial t) {
        double r = t.config().containsKey("r") ? ((Number) t.config().get("r")).doubleValue() : 2;
        return Math.min(1, 0.4 + 0.02 * r + 0.03 * ((t.seed() * 3) % 4));
    }

    /** Every planned trial OK with the made-up numbers, except those {@code failed} picks out (FAILED rows). */
    public static SweepResult result(SweepPlan plan, java.util.function.Predicate<Trial> failed) {
        return result(plan, failed, SweepFixtures::loss, SweepFixtures::accuracy);
    }

    public static SweepResult result(SweepPlan plan, java.util.function.Predicate<Trial> failed, ToDoubleFunction<Trial> loss,
            ToDoubleFunction<Trial> accuracy) {
        List<TrialResult> results = new ArrayList<>();
        int i = 0;
        for (Trial t : plan.trials()) {
            i++;
            if (failed.test(t)) {
                results.add(TrialResult.failed(t, "made up: diverged", "h", 1, 2.0, false));
                continue;
            }
            long trainable = t.config().containsKey("r") ? 3584L * ((Number) t.config().get("r")).intValue() : 1536;
            double l = loss.applyAsDouble(t);
            MethodResult r = new MethodResult(t.name(), "label", MethodResult.Status.OK, "", t.learningRate(), trainable, 3_168_512, trainable * 4,
                    32, 13_000_000, 300_000_000L + trainable * 100, 10.0 + i, 1000 + i, t.steps(), l + 0.1, l + 0.3, l, accuracy.applyAsDouble(t),
                    Table.create("curve", DoubleColumn.create("step", new double[] {1, 2}), DoubleColumn.create("loss", new double[] {l + 1, l + 0.1})),
                    Table.create("validations", DoubleColumn.create("step", new double[] {2}), DoubleColumn.create("val_loss", new double[] {l})),
                    0.05);
            results.add(new TrialResult(t, r, "h", 100 + i, 12.0 + i, false));
        }
        return new SweepResult("oneml-tiny", "sentiment", results);
    }
}
