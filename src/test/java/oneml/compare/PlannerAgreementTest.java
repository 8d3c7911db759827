package oneml.compare;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import oneml.BenchRuns;
import org.junit.jupiter.api.Test;

/**
 * The planner's estimate against the measured peak RSS of real training on the embedded shape, each run in its
 * own JVM ({@code oneml bench}'s child: random weights of the embedded configuration, batch 8 x 128, peak above a
 * baseline taken after a warm-up run of the same method on a 1-layer model). The measured figure also holds what
 * the planner leaves out (the JVM's own growth, libtorch's temporary buffers, allocator slack), so the agreement is
 * a ratio in a band, stated here: measured / planned between 0.8 and 2.0 for full fine-tuning and LoRA (0.99 and
 * 1.03 when this was last run; 1.11 and 1.05 before gradients came back as fresh arrays, 1.33 and 1.43 without the
 * bench's warm-up). QLoRA is printed, not checked: the planner counts its 4-bit base but not the float32 weights
 * oneml dequantises per layer, which autograd keeps until backward below 64 MiB of them (above, oneml checkpoints).
 * Memory is only measured on Linux.
 */
class PlannerAgreementTest {
    static final int BATCH = 8;
    static final int SEQ = 128;

    @Test
    void measuredPeakAgreesWithThePlan() throws Exception {
        if (ProcessMemory.rss() < 0) {
            return; // no /proc: nothing to measure against
        }
        ModelShape tiny = ModelShape.tiny();
        MemoryPlanner planner = MemoryPlanner.of(tiny).batchSize(BATCH).sequenceLength(SEQ);
        StringBuilder report = new StringBuilder();
        java.util.Map<String, Double> ratios = new java.util.LinkedHashMap<>();
        double loraPeak = 0;
        for (String method : List.of("full", "lora", "qlora")) {
            double measured = BenchRuns.measure("tiny", method, 1).get("peak_mb").getAsDouble() * 1e6;
            loraPeak = method.equals("lora") ? measured : loraPeak;
            long planned = planner.estimate(method, MemoryPlanner.Precision.FP32).total();
            double ratio = measured / planned;
            ratios.put(method, ratio);
            report.append(String.format(java.util.Locale.ROOT, "%s: measured %.1f MB, planned %.1f MB, ratio %.2f%n", method, measured / 1e6,
                    planned / 1e6, ratio));
        }
        double slope = BenchRuns.measure("tiny16", "lora", 1).get("peak_mb").getAsDouble() * 1e6 - loraPeak;
        long plannedSlope = MemoryPlanner.of(tiny).batchSize(2 * BATCH).sequenceLength(SEQ).estimate("lora", MemoryPlanner.Precision.FP32).total()
                - planner.estimate("lora", MemoryPlanner.Precision.FP32).total();
        report.append(String.format(java.util.Locale.ROOT, "lora, batch %d -> %d: measured +%.1f MB, planned +%.1f MB, ratio %.2f%n", BATCH, 2 * BATCH,
                slope / 1e6, plannedSlope / 1e6, slope / plannedSlope));
        System.out.print(report);
        for (String method : List.of("full", "lora")) {
            assertTrue(ratios.get(method) > 0.8 && ratios.get(method) < 2.0, method + ": measured / planned outside [0.8, 2.0]:\n" + report);
        }
    }
}
