package oneml.compare;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import oneml.LoRAConfig;
import oneml.Models;
import oneml.Peft;
import oneml.model.CausalLM;
import oneml.model.Engines;
import oneml.model.TrainableModel;
import oneml.train.FullFineTuning;
import oneml.train.TokenizedExample;
import oneml.train.TrainConfig;
import oneml.train.Trainer;
import org.junit.jupiter.api.Test;

/**
 * The planner's estimate against the measured peak RSS of real training on the embedded shape. The measured figure
 * also holds what the planner leaves out (the JVM's own growth, libtorch's temporary buffers, allocator slack), so
 * the agreement is a ratio in a band, stated here: measured / planned is between 0.8 and 2.0 for full fine-tuning and
 * LoRA (1.05 and 1.09 when this was written, with fused attention; 1.6 before it). QLoRA is printed, not checked: at
 * this small size oneml does not recompute blocks for a 4-bit base (it saves too little), the planner assumes it does.
 * Memory is only measured on Linux.
 */
class PlannerAgreementTest {
    static final int BATCH = 8;
    static final int SEQ = 128;

    @Test
    void measuredPeakAgreesWithThePlan() {
        if (ProcessMemory.rss() < 0) {
            return; // no /proc: nothing to measure against
        }
        ModelShape tiny = ModelShape.tiny();
        MemoryPlanner planner = MemoryPlanner.of(tiny).batchSize(BATCH).sequenceLength(SEQ);
        measure("lora", BATCH); // warm-up: the first run in a JVM also pays for JIT and one-off native set-up
        StringBuilder report = new StringBuilder();
        java.util.Map<String, Double> ratios = new java.util.LinkedHashMap<>();
        for (String method : List.of("full", "lora", "qlora")) {
            long measured = measure(method, BATCH);
            long planned = planner.estimate(method, MemoryPlanner.Precision.FP32).total();
            double ratio = (double) measured / planned;
            ratios.put(method, ratio);
            report.append(String.format(java.util.Locale.ROOT, "%s: measured %.1f MB, planned %.1f MB, ratio %.2f%n", method, measured / 1e6,
                    planned / 1e6, ratio));
        }
        long slope = measure("lora", 2 * BATCH) - measure("lora", BATCH);
        long plannedSlope = MemoryPlanner.of(tiny).batchSize(2 * BATCH).sequenceLength(SEQ).estimate("lora", MemoryPlanner.Precision.FP32).total()
                - planner.estimate("lora", MemoryPlanner.Precision.FP32).total();
        report.append(String.format(java.util.Locale.ROOT, "lora, batch %d -> %d: measured +%.1f MB, planned +%.1f MB, ratio %.2f%n", BATCH, 2 * BATCH,
                slope / 1e6, plannedSlope / 1e6, (double) slope / plannedSlope));
        System.out.print(report);
        for (String method : List.of("full", "lora")) {
            assertTrue(ratios.get(method) > 0.8 && ratios.get(method) < 2.0, method + ": measured / planned outside [0.8, 2.0]:\n" + report);
        }
    }

    /** Peak RSS above the baseline taken before the model loads, over four training steps on random tokens. */
    private static long measure(String method, int batch) {
        Engines.rootManager();
        long before = ProcessMemory.settleAndResetPeak();
        try (CausalLM model = Models.tiny()) {
            LoRAConfig lora = LoRAConfig.builder().r(8).alpha(16).targetModules("q_proj", "v_proj").build();
            TrainableModel trainable = switch (method) {
                case "full" -> new FullFineTuning(model);
                case "qlora" -> Peft.apply(model, Candidate.preset("qlora").config());
                default -> Peft.apply(model, lora);
            };
            List<TokenizedExample> data = new ArrayList<>();
            Random random = new Random(3);
            for (int i = 0; i < batch * 2; i++) {
                long[] ids = new long[SEQ];
                for (int t = 0; t < SEQ; t++) {
                    ids[t] = 4 + random.nextInt(model.config().vocabSize() - 4);
                }
                data.add(new TokenizedExample(ids, ids.clone()));
            }
            TrainConfig tc = TrainConfig.builder().steps(4).batchSize(batch).learningRate(1e-4).evalEvery(0).maxLength(SEQ).build();
            new Trainer(trainable, data, List.of(), tc, List.of()).run();
            return ProcessMemory.peakRss() - before;
        }
    }
}
