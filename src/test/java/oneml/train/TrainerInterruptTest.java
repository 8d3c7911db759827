package oneml.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CancellationException;
import oneml.LoRAConfig;
import oneml.Models;
import oneml.Peft;
import oneml.TestPaths;
import oneml.peft.PeftModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An interrupt (a notebook's stop button) ends a run at a step boundary: the step in flight completes, the run
 * returns normally with {@link StopReason#INTERRUPTED}, and the model trains on afterwards.
 */
class TrainerInterruptTest {
    private static PeftModel lora() {
        return Peft.apply(Models.load(TestPaths.vectors("llama")), LoRAConfig.builder().r(4).alpha(8).targetModules("q_proj", "v_proj").build());
    }

    /** Interrupts the training thread once step {@code at} has been reported, as the kernel does mid-step. */
    private static TrainingListener interruptAt(int at) {
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics step) {
                assertTrue(Trainer.isTrainingOn(Thread.currentThread()), "the kernel must see that this thread trains");
                if (step.step() == at) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    @Test
    void stopsAfterTheCurrentStepAndSkipsItsValidation() {
        try (PeftModel model = lora()) {
            TrainConfig config = TrainConfig.builder().steps(1000).batchSize(8).learningRate(1e-2).evalEvery(3).build();
            TrainingRun run = new Trainer(model, TrainerTest.counting(64, 12, 1), TrainerTest.counting(16, 12, 2), config,
                    List.of(interruptAt(3))).run();
            assertEquals(StopReason.INTERRUPTED, run.stopReason(), run.toString());
            assertEquals(3, run.stepsRun());
            assertEquals(3, run.history().rowCount());
            assertEquals(0, run.evaluations().rowCount(), "the validation due at step 3 is skipped");
            assertEquals("interrupted after step 3 of 1000", run.message());
            assertTrue(Thread.interrupted(), "the interrupt stays visible to the caller");
            assertFalse(Trainer.isTrainingOn(Thread.currentThread()));

            // the model is whole: it trains on with finite losses
            TrainingRun again = new Trainer(model, TrainerTest.counting(64, 12, 1), List.of(),
                    TrainConfig.builder().steps(3).batchSize(8).learningRate(1e-2).build(), List.of()).run();
            assertEquals(StopReason.COMPLETED, again.stopReason());
            assertTrue(Double.isFinite(again.finalTrainLoss()), again.toString());
        }
    }

    @Test
    void saysWhenItRestoredTheBestValues() {
        try (PeftModel model = lora()) {
            TrainConfig config = TrainConfig.builder().steps(1000).batchSize(8).learningRate(1e-2).evalEvery(1).restoreBest(true).build();
            TrainingRun run = new Trainer(model, TrainerTest.counting(64, 12, 1), TrainerTest.counting(16, 12, 2), config,
                    List.of(interruptAt(3))).run();
            assertEquals(StopReason.INTERRUPTED, run.stopReason());
            assertEquals(2, run.evaluations().rowCount(), "validations after steps 1 and 2, not after the interrupted step 3");
            assertTrue(run.message().startsWith("interrupted after step 3 of 1000; the trainable values of the best validation (step "),
                    run.message());
        }
    }

    @Test
    void anInterruptedValidationEndsBetweenBatches() {
        try (PeftModel model = lora()) {
            Thread.currentThread().interrupt();
            assertThrows(CancellationException.class, () -> Evaluator.loss(model.model(), TrainerTest.counting(16, 12, 2), 8));
        }
    }
}
