package oneml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import oneml.LoRAConfig;
import oneml.Models;
import oneml.Peft;
import oneml.TestPaths;
import oneml.model.CausalLM;
import oneml.peft.PeftModel;
import org.junit.jupiter.api.Test;

/** The loop on the tiny reference Llama with sequences that have a learnable pattern. */
class TrainerTest {

    /** Sequences counting upwards modulo 90 from a random start: easy to learn, never trivial. */
    static List<TokenizedExample> counting(int count, int length, long seed) {
        Random r = new Random(seed);
        List<TokenizedExample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int start = r.nextInt(90);
            int len = length - r.nextInt(3); // ragged, so padding is exercised
            long[] ids = new long[len];
            for (int t = 0; t < len; t++) {
                ids[t] = 3 + (start + t) % 90;
            }
            long[] labels = ids.clone();
            labels[0] = CausalLM.IGNORE;
            out.add(new TokenizedExample(ids, labels));
        }
        return out;
    }

    private static PeftModel lora(double dropout) {
        CausalLM base = Models.load(TestPaths.vectors("llama"));
        return Peft.apply(base, LoRAConfig.builder().r(8).alpha(16).dropout(dropout).targetModules("q_proj", "v_proj", "o_proj", "down_proj").build());
    }

    private static Map<String, float[]> values(Map<String, NDArray> arrays) {
        Map<String, float[]> out = new LinkedHashMap<>();
        arrays.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    @Test
    void loraTrainingLowersValidationLossAndLeavesTheBaseAlone() {
        try (PeftModel model = lora(0.0)) {
            Map<String, float[]> base = values(model.model().stateDict());
            Map<String, float[]> adapterBefore = values(model.trainableParameters());
            TrainConfig config = TrainConfig.builder().steps(40).batchSize(8).learningRate(1e-2).evalEvery(10).build();
            // against the untrained loss, not the first validation: how fast the first ten steps go is no part of the claim
            double untrained = Evaluator.loss(model.model(), counting(16, 12, 2), 8);
            TrainingRun run = new Trainer(model, counting(64, 12, 1), counting(16, 12, 2), config, List.of()).run();
            assertEquals(StopReason.COMPLETED, run.stopReason());
            assertEquals(40, run.history().rowCount());
            assertEquals(4, run.evaluations().rowCount());
            assertTrue(run.bestValidationLoss() < untrained - 0.3, "untrained " + untrained + ", " + run + "\n" + run.evaluations());
            System.out.printf("[trainer] lora validation loss %.3f untrained -> %.3f best in 40 steps%n", untrained, run.bestValidationLoss());
            assertTrue(run.finalTrainLoss() < run.history().doubleColumn("loss").getDouble(0), run.toString());
            values(model.model().stateDict()).forEach((k, v) -> assertArrayEquals(base.get(k), v, 0f, k + " must stay frozen"));
            values(model.trainableParameters()).forEach((k, v) -> {
                if (k.contains("lora_B")) {
                    assertTrue(java.util.Arrays.stream(toDoubles(v)).anyMatch(x -> x != 0), k + " must train");
                }
            });
            assertTrue(adapterBefore.keySet().containsAll(model.trainableParameters().keySet()));
        }
    }

    private static double[] toDoubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    @Test
    void sameSeedSameRun() {
        TrainConfig config = TrainConfig.builder().steps(6).batchSize(4).learningRate(5e-3).evalEvery(3).seed(7).build();
        double[][] losses = new double[2][];
        Map<String, float[]>[] finals = new Map[2];
        for (int i = 0; i < 2; i++) {
            try (PeftModel model = lora(0.1)) {
                TrainingRun run = new Trainer(model, counting(32, 10, 1), counting(8, 10, 2), config, List.of()).run();
                losses[i] = run.history().doubleColumn("loss").asDoubleArray();
                finals[i] = values(model.trainableParameters());
            }
        }
        assertArrayEquals(losses[0], losses[1], 0.0);
        finals[0].forEach((k, v) -> assertArrayEquals(v, finals[1].get(k), 0f, k));
    }

    /**
     * Checkpointing adds gradients up in the parameters' gradient fields; plain training takes them as fresh arrays
     * from autograd.grad with one micro-batch, and adds them up in the fields with accumulation: all give the same
     * updates.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void checkpointingGivesTheSameUpdatesAsPlainBackward(int accumulation) {
        Map<String, float[]>[] finals = new Map[2];
        double[][] losses = new double[2][];
        for (int i = 0; i < 2; i++) {
            TrainConfig config = TrainConfig.builder().steps(3).batchSize(4).learningRate(1e-2).evalEvery(0)
                    .gradientAccumulation(accumulation).gradientCheckpointing(i == 1).build();
            try (PeftModel model = lora(0.0)) {
                TrainingRun run = new Trainer(model, counting(16, 10, 3), List.of(), config, List.of()).run();
                losses[i] = run.history().doubleColumn("loss").asDoubleArray();
                finals[i] = values(model.trainableParameters());
            }
        }
        assertArrayEquals(losses[0], losses[1], 1e-5);
        finals[0].forEach((k, v) -> assertArrayEquals(v, finals[1].get(k), 1e-5f, k));
    }

    /**
     * The poison lands right after the first validation, in every trainable array (LoRA on o_proj and down_proj adds
     * straight into the residual stream, so the next loss is NaN by plain arithmetic, whatever a CPU kernel does with
     * NaN): step 1 is the only validation before the blow-up, so it is the best by construction.
     */
    @Test
    void divergenceStopsAndKeepsTheBestValues() {
        try (PeftModel model = lora(0.0)) {
            Map<String, float[]>[] atBest = new Map[1];
            TrainingListener poison = new TrainingListener() {
                @Override
                public void onEvaluation(EvalMetrics evaluation) {
                    if (evaluation.best()) {
                        atBest[0] = values(model.trainableParameters());
                    }
                    if (evaluation.step() == 1) {
                        oneml.model.Engines.noGradInThisThread();
                        model.trainableParameters().values().forEach(p -> p.muli(Float.NaN));
                    }
                }
            };
            TrainConfig config = TrainConfig.builder().steps(10).batchSize(4).learningRate(1e-3).evalEvery(1).build();
            TrainingRun run = new Trainer(model, counting(16, 10, 3), counting(4, 10, 4), config, List.of(poison)).run();
            assertEquals(StopReason.DIVERGED, run.stopReason());
            assertTrue(run.message().contains("NaN") && run.message().contains("step 2"), run.message());
            assertEquals(1, run.evaluations().rowCount(), "no validation after the blow-up");
            assertEquals(1, run.bestStep());
            values(model.trainableParameters()).forEach((k, v) -> assertArrayEquals(atBest[0].get(k), v, 0f, k));
        }
    }

    /**
     * Regression: RMSNorm written with pow(-1) made libtorch's backward produce NaN input gradients at
     * random (most runs of this test diverged within 30 steps); with a division it never does.
     */
    @Test
    void fullFineTuningOfATiedModelStaysFinite() {
        Random random = new Random(5);
        List<TokenizedExample> data = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            long[] ids = new long[64];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = 1 + random.nextInt(815);
            }
            data.add(new TokenizedExample(ids, ids.clone()));
        }
        for (int run = 0; run < 4; run++) {
            try (CausalLM model = Models.random(oneml.model.ModelConfig.llama(816, 64, 2, 4, 2, 128, 64), run)) {
                TrainConfig config = TrainConfig.builder().steps(20).batchSize(8).learningRate(2e-3).evalEvery(0).maxLength(64).build();
                TrainingRun result = new Trainer(new FullFineTuning(model), data, List.of(), config, List.of()).run();
                assertEquals(StopReason.COMPLETED, result.stopReason(), result.message());
            }
        }
    }

    /**
     * A learning rate of 1e-12 moves the validation loss by far less than the threshold (rounding may still move it
     * either way), so patience runs out after the validations at steps 4 and 6 on any machine. The best step is
     * whichever validation was lowest, and the adapter on disk holds that step's values.
     */
    @Test
    void earlyStoppingKeepsTheBestAdapterOnDisk(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        try (PeftModel model = lora(0.0)) {
            java.nio.file.Path atBest = tmp.resolve("at-best");
            TrainingListener keep = new TrainingListener() {
                @Override
                public void onEvaluation(EvalMetrics evaluation) {
                    if (evaluation.best()) {
                        model.save(atBest);
                    }
                }
            };
            TrainConfig config = TrainConfig.builder().steps(50).batchSize(8).learningRate(1e-12).evalEvery(2)
                    .earlyStoppingPatience(2).earlyStoppingThreshold(1e-3).checkpointDir(tmp.resolve("best")).build();
            TrainingRun run = new Trainer(model, counting(32, 12, 1), counting(8, 12, 2), config, List.of(keep)).run();
            assertEquals(StopReason.EARLY_STOPPED, run.stopReason(), run.toString());
            assertEquals(6, run.stepsRun());
            double[] losses = run.evaluations().doubleColumn("val_loss").asDoubleArray();
            int lowest = 0;
            for (int i = 1; i < losses.length; i++) {
                lowest = losses[i] < losses[lowest] ? i : lowest;
            }
            assertEquals(run.evaluations().intColumn("step").getInt(lowest), run.bestStep());
            java.nio.file.Path saved = tmp.resolve("best");
            assertTrue(java.nio.file.Files.isRegularFile(saved.resolve("adapter_config.json")));
            assertArrayEquals(java.nio.file.Files.readAllBytes(atBest.resolve("adapter_model.safetensors")),
                    java.nio.file.Files.readAllBytes(saved.resolve("adapter_model.safetensors")), "the best step's values are on disk");
        }
    }

    @Test
    void patienceCountsOnlyImprovementsAboveTheThreshold() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.builder().earlyStoppingThreshold(-1).build());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.builder().earlyStoppingThreshold(Double.NaN).build());
    }

    @Test
    void schedulesFollowTransformers() {
        assertEquals(0.5, Schedule.LINEAR.rate(1.0, 0, 2, 10), 1e-12);
        assertEquals(1.0, Schedule.LINEAR.rate(1.0, 2, 2, 10), 1e-12);
        assertEquals(0.5, Schedule.LINEAR.rate(1.0, 6, 2, 10), 1e-12);
        assertEquals(0.5, Schedule.COSINE.rate(1.0, 6, 2, 10), 1e-12);
        assertEquals(1.0, Schedule.CONSTANT.rate(1.0, 9, 0, 10), 1e-12);
    }
}
