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
            TrainingRun run = new Trainer(model, counting(64, 12, 1), counting(16, 12, 2), config, List.of()).run();
            assertEquals(StopReason.COMPLETED, run.stopReason());
            assertEquals(40, run.history().rowCount());
            assertEquals(4, run.evaluations().rowCount());
            assertTrue(run.bestValidationLoss() < run.firstValidationLoss() - 0.3, run.toString() + "\n" + run.evaluations());
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

    @Test
    void divergenceStopsAndKeepsTheBestValues() {
        try (PeftModel model = lora(0.0)) {
            Map<String, float[]>[] atBest = new Map[1];
            TrainingListener poison = new TrainingListener() {
                @Override
                public void onStep(StepMetrics step) {
                    if (step.step() == 2) { // simulate a blow-up after the first validation
                        model.trainableParameters().values().iterator().next().muli(Float.NaN);
                    }
                }

                @Override
                public void onEvaluation(EvalMetrics evaluation) {
                    if (evaluation.best()) {
                        atBest[0] = values(model.trainableParameters());
                    }
                }
            };
            TrainConfig config = TrainConfig.builder().steps(10).batchSize(4).learningRate(1e-3).evalEvery(1).build();
            TrainingRun run = new Trainer(model, counting(16, 10, 3), counting(4, 10, 4), config, List.of(poison)).run();
            assertEquals(StopReason.DIVERGED, run.stopReason());
            assertTrue(run.message().contains("NaN"), run.message());
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

    @Test
    void earlyStoppingKeepsTheBestAdapterOnDisk(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        try (PeftModel model = lora(0.0)) {
            // a learning rate this small cannot improve the validation loss, so patience runs out
            TrainConfig config = TrainConfig.builder().steps(50).batchSize(8).learningRate(1e-12).evalEvery(2)
                    .earlyStoppingPatience(2).checkpointDir(tmp.resolve("best")).build();
            TrainingRun run = new Trainer(model, counting(32, 12, 1), counting(8, 12, 2), config, List.of()).run();
            assertEquals(StopReason.EARLY_STOPPED, run.stopReason(), run.toString());
            assertEquals(6, run.stepsRun());
            assertEquals(2, run.bestStep());
            assertTrue(java.nio.file.Files.isRegularFile(tmp.resolve("best").resolve("adapter_model.safetensors")));
            assertTrue(java.nio.file.Files.isRegularFile(tmp.resolve("best").resolve("adapter_config.json")));
        }
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
