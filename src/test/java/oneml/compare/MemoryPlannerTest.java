package oneml.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import oneml.Models;
import oneml.Peft;
import oneml.PeftConfig;
import oneml.TestPaths;
import oneml.compare.MemoryPlanner.Precision;
import oneml.model.CausalLM;
import org.junit.jupiter.api.Test;

/** The planner against hand-computed figures, against the real adapters' parameter counts, and the docs' claim. */
class MemoryPlannerTest {

    @Test
    void presetsHaveTheKnownParameterCounts() {
        // Hugging Face's counts for Llama-2-7b-hf, 13b-hf and 70b-hf
        assertEquals(6_738_415_616L, ModelShape.llama7b().parameters());
        assertEquals(13_015_864_320L, ModelShape.llama13b().parameters());
        assertEquals(68_976_648_192L, ModelShape.llama70b().parameters());
    }

    @Test
    void shapesOfRealCheckpointsCountTheirParameters() {
        for (var dir : List.of(oneml.io.ProjectHome.find(Models.TINY_PATH), TestPaths.vectors("llama"), TestPaths.vectors("gpt2"))) {
            try (CausalLM model = Models.load(dir)) {
                assertEquals(model.parameterCount(), ModelShape.of(dir).parameters(), dir.toString());
            }
        }
    }

    @Test
    void seventyBillionParametersNeedOver500GbJustForAdamStates() {
        MemoryPlan plan = MemoryPlanner.of(ModelShape.llama70b()).batchSize(1).sequenceLength(2048).plan();
        MemoryEstimate full = plan.estimate("full");
        assertEquals(8L * 68_976_648_192L, full.optimizer()); // two fp32 moments per parameter
        assertTrue(full.optimizer() > 500e9, full.toString());
        // full fine-tuning is 16 bytes per parameter before activations, in fp32 and in mixed precision alike
        assertEquals(16L * 68_976_648_192L, full.weights() + full.gradients() + full.optimizer());
        MemoryEstimate mixed = plan.estimate("full (mixed)");
        assertEquals(16L * 68_976_648_192L, mixed.weights() + mixed.gradients() + mixed.optimizer());
        // QLoRA: the frozen base at 4.127 bits per linear weight is what makes 70B fit on one large GPU
        MemoryEstimate qlora = plan.estimate("qlora");
        assertTrue(qlora.weights() < 40e9 && qlora.weights() > 34e9, qlora.toString());
        assertTrue(qlora.total() < plan.estimate("lora").total() / 2, qlora + " vs " + plan.estimate("lora"));
        assertEquals("GB", plan.unit());
        assertEquals(9, plan.table().rowCount());
    }

    @Test
    void handComputedFiguresForTheEmbeddedShape() {
        ModelShape tiny = ModelShape.tiny();
        var c = tiny.config(); // d 256, 4 layers, 8 heads, kv 128, MLP 688, vocab 816, tied
        long n = tiny.parameters();
        MemoryPlanner planner = MemoryPlanner.of(tiny).batchSize(2).sequenceLength(10);
        MemoryEstimate full = planner.estimate("full", Precision.FP32);
        assertEquals(4 * n, full.weights());
        assertEquals(4 * n, full.gradients());
        assertEquals(8 * n, full.optimizer());
        long perLayer = 2 * 10 * (14L * 256 + 3 * 128 + 5 * 688) + 2L * 2 * 8 * 10 * 10;
        long head = 2 * 10 * (3L * 256 + 3 * c.vocabSize());
        assertEquals(4 * (4 * perLayer + head), full.activations());
        MemoryEstimate lora = planner.estimate("lora", Precision.FP32);
        long p = 4L * 8 * ((256 + 256) + (256 + 128));
        assertEquals(p, lora.trainableParams());
        assertEquals(4 * n + 4 * p, lora.weights());
        assertEquals(4 * p, lora.gradients());
        assertEquals(8 * p, lora.optimizer());
        // QLoRA recomputes each block: only the block inputs and one block's tensors are kept
        MemoryEstimate qlora = planner.estimate("qlora", Precision.FP32);
        assertEquals(4 * (4L * 2 * 10 * 256 + perLayer + head), qlora.activations());
        assertEquals((long) Math.ceil(tiny.linearParameters() * 4.127 / 8) + 4 * (n - tiny.linearParameters()) + 4 * p, qlora.weights());
    }

    @Test
    void trainableCountsEqualTheRealAdapters() {
        MemoryPlanner planner = MemoryPlanner.of(ModelShape.tiny());
        for (String method : MemoryPlanner.METHODS.subList(1, MemoryPlanner.METHODS.size())) {
            PeftConfig config = Candidate.preset(method).config(); // the comparison's defaults are what the planner counts
            try (CausalLM base = Models.tiny()) {
                assertEquals(Peft.apply(base, config).trainableParameterCount(), planner.trainableParameters(method), method);
            }
        }
    }

    @Test
    void badInputIsAClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> MemoryPlanner.of(ModelShape.tiny()).trainableParameters("lorra"));
        assertTrue(e.getMessage().contains("lorra") && e.getMessage().contains("qlora"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MemoryPlanner.of(ModelShape.tiny()).batchSize(0));
    }
}
