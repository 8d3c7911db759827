package oneml.peft.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import oneml.AdapterConfig;
import oneml.Peft;
import oneml.io.SafeTensors;
import oneml.model.CausalLM;
import oneml.peft.PeftModel;
import oneml.train.StopReason;
import oneml.train.TrainConfig;
import oneml.train.Trainer;
import oneml.train.TrainingRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** One bottleneck adapter: identity at start, its math, gradients, training, files, and what it refuses. */
class BottleneckAdapterTest {
    @TempDir
    Path tmp;

    private static String layerPrefix(String family, int layer) {
        return BottleneckAdapter.KEY_PREFIX + (family.equals("gpt2") ? "transformer.h." : "model.layers.") + layer + ".";
    }

    @ParameterizedTest
    @CsvSource({"llama,pfeiffer", "llama,houlsby", "gpt2,pfeiffer", "gpt2,houlsby"})
    void newAdapterLeavesTheLogitsExactlyUnchanged(String family, String preset) {
        AdapterConfig config = preset.equals("houlsby") ? AdapterConfig.houlsby() : AdapterConfig.pfeiffer();
        try (CausalLM base = Fixtures.load(family); NDManager m = base.manager().newSubManager()) {
            float[] before = Fixtures.logits(base, m);
            PeftModel model = Peft.apply(base, config);
            assertArrayEquals(before, Fixtures.logits(base, m), 0f, "W_up = 0 and b_up = 0 make a new adapter the identity");
            assertEquals(config, model.adapter("default").config());
        }
    }

    @Test
    void adapterHubInitsStartNearTheIdentity() {
        try (CausalLM base = Fixtures.load("llama"); NDManager m = base.manager().newSubManager()) {
            float[] before = Fixtures.logits(base, m);
            for (String init : List.of("bert", "houlsby")) {
                PeftModel model = Peft.apply(base, AdapterConfig.houlsby().toBuilder().initWeights(init).build());
                float[] after = Fixtures.logits(base, m);
                assertNotEquals(before[0], after[0], init + " draws W_up at random");
                assertArrayEquals(before, after, 5e-2f, init);
                model.deleteAdapter("default");
                assertArrayEquals(before, Fixtures.logits(base, m), 0f, "removing the adapter restores the base");
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"llama,pfeiffer,16", "llama,houlsby,16", "llama,houlsby,4", "gpt2,pfeiffer,8", "gpt2,houlsby,16"})
    void trainableCountFollowsTheFormula(String family, String preset, int reduction) {
        AdapterConfig config = (preset.equals("houlsby") ? AdapterConfig.houlsby() : AdapterConfig.pfeiffer()).toBuilder()
                .reductionFactor(reduction).build();
        try (CausalLM base = Fixtures.load(family)) {
            PeftModel model = Peft.apply(base, config);
            int hidden = base.config().hiddenSize();
            int m = hidden / reduction;
            int taps = preset.equals("houlsby") ? 2 : 1;
            // W_down [m, hidden] + b_down [m] + W_up [hidden, m] + b_up [hidden], per tap per layer
            long expected = (long) base.config().numLayers() * taps * (2L * hidden * m + m + hidden);
            assertEquals(expected, model.trainableParameterCount());
            assertEquals(base.parameterCount() + expected, model.allParameterCount(), "adapter biases are new arrays and count");
            assertEquals(base.config().numLayers() * taps * 4, model.trainableParameters().size());
            assertEquals(m, ((BottleneckAdapter) model.adapter("default")).bottleneckSize());
            assertTrue(model.trainableParametersSummary().startsWith("trainable params: " + String.format(java.util.Locale.ROOT, "%,d", expected)));
            assertEquals(base.config().numLayers() * taps, model.adapter("default").targets().size());
        }
    }

    /** The hook's output against W_up f(W_down s + b_down) + b_up computed in plain Java, for every non-linearity. */
    @ParameterizedTest
    @ValueSource(strings = {"relu", "swish", "silu", "gelu", "tanh"})
    void tapComputesTheBottleneckByHand(String f) {
        try (CausalLM base = Fixtures.load("llama"); NDManager m = base.manager().newSubManager()) {
            if (f.equals("gelu")) { // AdapterHub's "gelu" is the exact erf form, not GPT-2's tanh approximation (0.841192)
                assertEquals(0.8413447f, ai.djl.nn.Activation.gelu(m.create(1f)).getFloat(), 1e-6f);
            }
            PeftModel model = Peft.apply(base, AdapterConfig.houlsby().toBuilder().nonLinearity(f).reductionFactor(4).initWeights("bert").build());
            Fixtures.amplify(model.trainableParameters(), 30f);
            float[][] s = Fixtures.rows(6, 32, 3);
            for (int layer = 0; layer < 2; layer++) {
                for (Tap tap : Tap.values()) {
                    NDArray input = m.create(Fixtures.flat(s), new Shape(2, 3, 32));
                    NDArray out = tap == Tap.ATTENTION ? base.hooks().afterAttention(layer, input) : base.hooks().afterMlp(layer, input);
                    float[][] d = Fixtures.delta(model.trainableParameters(), layerPrefix("llama", layer) + tap.moduleName + ".", f, s);
                    float[] expected = new float[6 * 32];
                    for (int i = 0; i < 6; i++) {
                        for (int k = 0; k < 32; k++) {
                            expected[i * 32 + k] = s[i][k] + d[i][k];
                        }
                    }
                    float[] actual = out.toFloatArray();
                    assertArrayEquals(expected, actual, 2e-5f, f + " " + tap + " layer " + layer);
                    assertNotEquals(s[0][0], actual[0], "the amplified adapter changes its input");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void onlyAdapterParametersReceiveGradients(String family) {
        try (CausalLM base = Fixtures.load(family); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.apply(base, AdapterConfig.houlsby().toBuilder().initWeights("bert").build());
            NDArray ids = m.create(new long[] {5, 17, 3, 90, 40, 2, 11, 63}, new Shape(1, 8));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(CausalLM.causalLmLoss(model.forward(ids), ids));
            }
            assertEquals(16, model.trainableParameters().size()); // 2 layers x 2 taps x (W_down, b_down, W_up, b_up)
            for (var e : model.trainableParameters().entrySet()) {
                NDArray g = e.getValue().getGradient();
                float sum = g.abs().sum().getFloat();
                assertTrue(sum > 0 && Float.isFinite(sum), e.getKey() + " gets a finite, non-zero gradient");
                g.close();
            }
            for (var e : base.stateDict().entrySet()) {
                assertFalse(e.getValue().hasGradient(), e.getKey() + " is frozen");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void trainingLowersValidationLossAndLeavesTheBaseAlone(String family) {
        try (CausalLM base = Fixtures.load(family)) {
            Map<String, float[]> frozen = values(base.stateDict());
            PeftModel model = Peft.apply(base, AdapterConfig.pfeiffer().toBuilder().reductionFactor(2).build());
            TrainConfig config = TrainConfig.builder().steps(40).batchSize(8).learningRate(1e-2).evalEvery(10).build();
            var validation = Fixtures.task("up", 16, 12, 2);
            // against the untrained loss, not the first validation: how fast the first ten steps go is no part of the claim
            double untrained = oneml.train.Evaluator.loss(base, validation, 8);
            TrainingRun run = new Trainer(model, Fixtures.task("up", 64, 12, 1), validation, config, List.of()).run();
            assertEquals(StopReason.COMPLETED, run.stopReason(), run.message());
            assertTrue(run.bestValidationLoss() < untrained - 0.3, "untrained " + untrained + ", " + run + "\n" + run.evaluations());
            values(base.stateDict()).forEach((k, v) -> assertArrayEquals(frozen.get(k), v, 0f, k + " must stay frozen"));
            System.out.printf("[adapter] %s Pfeiffer rf=2: validation loss %.3f untrained -> %.3f best in 40 steps%n", family,
                    untrained, run.bestValidationLoss());
        }
    }

    @Test
    void dropoutOnlyActsWhileTraining() {
        try (CausalLM base = Fixtures.load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.apply(base, AdapterConfig.pfeiffer().toBuilder().reductionFactor(4).initWeights("bert").dropout(0.5).build());
            Fixtures.amplify(model.trainableParameters(), 30f);
            float[] eval1 = Fixtures.logits(base, m);
            assertArrayEquals(eval1, Fixtures.logits(base, m), 0f, "no dropout in evaluation mode");
            model.setTraining(true);
            float[] train = Fixtures.logits(base, m);
            model.setTraining(false);
            assertNotEquals(eval1[0], train[0], "dropout changes training-mode outputs");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void saveThenLoadReproducesLogitsExactly(String family) throws Exception {
        Path dir = tmp.resolve("adapter-" + family);
        AdapterConfig config = AdapterConfig.houlsby().toBuilder().reductionFactor(8).initWeights("bert").build();
        float[] trained;
        try (CausalLM base = Fixtures.load(family); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.apply(base, config);
            Fixtures.amplify(model.trainableParameters(), 10f);
            trained = Fixtures.logits(base, m);
            model.save(dir);
        }
        JsonObject json = JsonParser.parseString(Files.readString(dir.resolve("adapter_config.json"))).getAsJsonObject();
        assertEquals("BOTTLENECK", json.get("peft_type").getAsString());
        assertEquals(8, json.get("reduction_factor").getAsInt());
        assertEquals("swish", json.get("non_linearity").getAsString());
        List<String> keys = SafeTensors.names(dir.resolve("adapter_model.safetensors"));
        String prefix = layerPrefix(family, 1);
        for (String k : List.of("attention_adapters.adapter_down.weight", "attention_adapters.adapter_down.bias",
                "attention_adapters.adapter_up.weight", "attention_adapters.adapter_up.bias", "output_adapters.adapter_down.weight",
                "output_adapters.adapter_up.bias")) {
            assertTrue(keys.contains(prefix + k), prefix + k + " in " + keys);
        }
        assertEquals(16, keys.size());
        var header = SafeTensors.readHeader(dir.resolve("adapter_model.safetensors"));
        var down = header.entries().get(prefix + "output_adapters.adapter_down.weight");
        assertEquals("F32", down.type().name());
        assertArrayEquals(new long[] {4, 32}, down.shape());
        assertArrayEquals(new long[] {32, 4}, header.entries().get(prefix + "output_adapters.adapter_up.weight").shape());

        try (CausalLM base = Fixtures.load(family); NDManager m = base.manager().newSubManager()) {
            PeftModel loaded = Peft.load(base, dir);
            assertEquals(config, loaded.adapter("default").config());
            assertArrayEquals(trained, Fixtures.logits(base, m), 0f);
        }
    }

    @Test
    void anAdapterForAnotherModelIsAClearError() {
        Path dir = tmp.resolve("wide");
        try (CausalLM base = Fixtures.load("llama")) {
            Peft.apply(base, AdapterConfig.pfeiffer().toBuilder().reductionFactor(2).build()).save(dir);
        }
        try (CausalLM gpt2 = Fixtures.load("gpt2")) {
            var e = assertThrows(IllegalArgumentException.class, () -> Peft.load(gpt2, dir));
            assertTrue(e.getMessage().contains("model.layers.0.output_adapters"), e.getMessage());
        }
    }

    @Test
    void mergingIsRefusedWithTheReason() {
        try (CausalLM base = Fixtures.load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.apply(base, AdapterConfig.pfeiffer().toBuilder().initWeights("bert").build());
            float[] adapted = Fixtures.logits(base, m);
            var e = assertThrows(UnsupportedOperationException.class, model::merge);
            assertTrue(e.getMessage().contains("cannot be merged") && e.getMessage().contains("non-linearity relu"), e.getMessage());
            var unload = assertThrows(UnsupportedOperationException.class, model::mergeAndUnload);
            assertTrue(unload.getMessage().contains("cannot be merged"), unload.getMessage());
            assertFalse(model.adapter("default").isMerged());
            assertArrayEquals(adapted, Fixtures.logits(base, m), 0f, "a refused merge leaves the model as it was");
        }
    }

    @Test
    void disablingAndRemovingRestoreTheBase() throws Exception {
        try (CausalLM base = Fixtures.load("gpt2"); NDManager m = base.manager().newSubManager()) {
            float[] plain = Fixtures.logits(base, m);
            PeftModel model = Peft.apply(base, AdapterConfig.houlsby().toBuilder().initWeights("bert").build());
            Fixtures.amplify(model.trainableParameters(), 20f);
            float[] adapted = Fixtures.logits(base, m);
            assertNotEquals(plain[0], adapted[0]);
            try (var off = model.disableAdapters()) {
                assertArrayEquals(plain, Fixtures.logits(base, m), 0f);
            }
            assertArrayEquals(adapted, Fixtures.logits(base, m), 0f);
            model.deleteAdapter("default");
            assertArrayEquals(plain, Fixtures.logits(base, m), 0f, "remove() takes the hooks off the model");
        }
    }

    /** Generation feeds one token at a time against the KV cache; adapters act per position, so logits must agree. */
    @ParameterizedTest
    @ValueSource(strings = {"single", "average"})
    void cachedForwardMatchesTheFullForward(String mode) {
        try (CausalLM base = Fixtures.load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.apply(base, AdapterConfig.houlsby().toBuilder().initWeights("bert").build());
            model.addAdapter("other", AdapterConfig.pfeiffer().toBuilder().initWeights("bert").build());
            Fixtures.amplify(model.adapter("default").parameters(), 20f);
            Fixtures.amplify(model.adapter("other").parameters(), 20f);
            if (mode.equals("average")) {
                model.compose(Compose.average("default", "other"));
            }
            NDArray ids = m.create(new long[] {5, 17, 3, 90, 40, 2}, new Shape(1, 6));
            float[] full = base.forward(ids).get(new ai.djl.ndarray.index.NDIndex(":, 5, :")).toFloatArray();
            try (oneml.model.KvCache cache = new oneml.model.KvCache(m, base.config().numLayers())) {
                base.forward(ids.get(new ai.djl.ndarray.index.NDIndex(":, :5")), cache);
                float[] cached = base.forward(ids.get(new ai.djl.ndarray.index.NDIndex(":, 5:")), cache).toFloatArray();
                assertArrayEquals(full, cached, 1e-5f);
            }
        }
    }

    @Test
    void gradientCheckpointingGivesTheSameUpdates() {
        Map<String, float[]>[] finals = new Map[2];
        for (int i = 0; i < 2; i++) {
            try (CausalLM base = Fixtures.load("gpt2")) {
                PeftModel model = Peft.apply(base, AdapterConfig.houlsby().toBuilder().reductionFactor(4).build()); // no dropout: the plain pass draws other masks
                TrainConfig config = TrainConfig.builder().steps(3).batchSize(4).learningRate(1e-2).evalEvery(0)
                        .gradientAccumulation(2).gradientCheckpointing(i == 1).build();
                new Trainer(model, Fixtures.task("down", 16, 10, 3), List.of(), config, List.of()).run();
                finals[i] = values(model.trainableParameters());
            }
        }
        finals[0].forEach((k, v) -> assertArrayEquals(v, finals[1].get(k), 1e-5f, k));
    }

    private static Map<String, float[]> values(Map<String, NDArray> arrays) {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        arrays.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }
}
