package oneml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import oneml.data.Datasets;
import oneml.data.TextDataset;
import oneml.model.CausalLM;
import oneml.train.StopReason;
import oneml.train.TrainingRun;
import org.junit.jupiter.api.Test;

/** The docs' first example on the embedded default: LoRA visibly helps, within a CI-sized budget. */
class EmbeddedDefaultTest {

    @Test
    void docsLoraConfigLowersValidationLossAndRaisesAccuracy() throws Exception {
        TextDataset data = Datasets.sentiment();
        try (CausalLM base = Models.tiny()) {
            double untrainedLoss = Math.log(Eval.perplexity(base, data.validation()));
            var lora = LoRAConfig.builder().r(16).alpha(32).dropout(0.1).targetModules("q_proj", "v_proj").build();
            var model = Peft.apply(base, lora);
            var before = Eval.accuracy(base, data.test(), 4, 100);
            TrainingRun run = Train.of(model, data).steps(60).batchSize(16).learningRate(2e-3).warmupSteps(5).evalEvery(30).quiet().run();
            var after = Eval.accuracy(base, data.test(), 4, 100);
            assertEquals(StopReason.COMPLETED, run.stopReason());
            assertTrue(run.bestValidationLoss() < untrainedLoss - 1.0, "validation loss " + untrainedLoss + " -> " + run.bestValidationLoss());
            assertTrue(after.accuracy() >= before.accuracy() + 0.25, "accuracy " + before + " -> " + after);
            assertTrue(after.accuracy() >= 0.75, "after training: " + after);
        }
    }
}
