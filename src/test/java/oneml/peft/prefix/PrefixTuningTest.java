package oneml.peft.prefix;

import static oneml.peft.PeftTesting.counting;
import static oneml.peft.PeftTesting.load;
import static oneml.peft.PeftTesting.logits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import oneml.Peft;
import oneml.PrefixTuningConfig;
import oneml.io.SafeTensors;
import oneml.model.CausalLM;
import oneml.peft.PeftModel;
import oneml.peft.PeftTesting;
import oneml.train.TrainConfig;
import oneml.train.Trainer;
import oneml.train.TrainingRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Prefix tuning on the tiny Llama (4 query heads sharing 2 kv heads, so token_dim = 2 x 8 = 16) and GPT-2
 * (token_dim 32): PEFT's parameter layout, the cache, training, the projection and PEFT's files.
 */
class PrefixTuningTest {
    @TempDir
    Path tmp;

    private static PrefixTuningConfig tokens(int n) {
        return PrefixTuningConfig.builder().numVirtualTokens(n).build();
    }

    @Test
    void trainableCountFollowsPeftsGroupedQueryLayout() {
        try (CausalLM llama = load("llama"); CausalLM gpt2 = load("gpt2")) {
            PeftModel l = Peft.apply(llama, tokens(5));
            assertEquals(5 * 2 * 2 * (2 * 8), l.trainableParameterCount(), "nvt x layers x (k, v) x kv_heads x head_dim");
            assertArrayEquals(new long[] {5, 64}, l.trainableParameters().get("prompt_embeddings").getShape().getShape());
            assertEquals(5 * 2 * 2 * 32, Peft.apply(gpt2, tokens(5)).trainableParameterCount());
        }
        try (CausalLM llama = load("llama")) {
            PeftModel p = Peft.apply(llama, PrefixTuningConfig.builder().numVirtualTokens(5).prefixProjection(true).encoderHiddenSize(24).build());
            // Embedding(5, 16), Linear(16 -> 24), Linear(24 -> 2 layers x 2 x 16)
            assertEquals(5 * 16 + (24 * 16 + 24) + (64 * 24 + 64), p.trainableParameterCount());
            assertEquals(List.of("prompt_encoder.embedding.weight", "prompt_encoder.transform.0.weight", "prompt_encoder.transform.0.bias",
                    "prompt_encoder.transform.2.weight", "prompt_encoder.transform.2.bias"), List.copyOf(p.trainableParameters().keySet()));
        }
    }

    /** PEFT's get_prompt, written out with indices: view(B, nvt, L*2, H, D).permute(2, 0, 3, 1, 4).split(2). */
    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void keysAndValuesAreCutFromTheFlatPrefixAsPeftDoes(String family) {
        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            int nvt = 3;
            PeftModel model = Peft.apply(base, tokens(nvt));
            int layers = base.config().numLayers();
            int heads = base.config().numKvHeads();
            int d = base.config().headDim();
            int width = layers * 2 * heads * d;
            float[] flat = new float[nvt * width];
            for (int i = 0; i < flat.length; i++) {
                flat[i] = i;
            }
            model.trainableParameters().get("prompt_embeddings").set(flat);
            long batch = 2;
            for (int layer = 0; layer < layers; layer++) {
                NDList kv = base.hooks().keyValuePrefix(layer, batch, m);
                assertArrayEquals(new long[] {batch, heads, nvt, d}, kv.get(0).getShape().getShape());
                float[] keys = kv.get(0).toFloatArray();
                float[] values = kv.get(1).toFloatArray();
                for (int b = 0; b < batch; b++) {
                    for (int h = 0; h < heads; h++) {
                        for (int p = 0; p < nvt; p++) {
                            for (int j = 0; j < d; j++) {
                                int at = ((b * heads + h) * nvt + p) * d + j;
                                // slot s of the layers*2 axis: layer l's key is slot 2l, its value slot 2l + 1
                                assertEquals(flat[p * width + ((2 * layer) * heads + h) * d + j], keys[at], "key " + layer);
                                assertEquals(flat[p * width + ((2 * layer + 1) * heads + h) * d + j], values[at], "value " + layer);
                            }
                        }
                    }
                }
            }
            assertEquals(nvt, base.startPosition(), "real tokens start after the prefix");
            try (var off = model.disableAdapters()) {
                assertNull(base.hooks().keyValuePrefix(0, batch, m));
                assertEquals(0, base.startPosition());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void prefixChangesTheOutputOnlyWhileEnabled(String family) {
        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            float[] before = logits(base, m);
            PeftModel model = Peft.apply(base, tokens(4));
            assertNotEquals(before[0], logits(base, m)[0]);
            try (var off = model.disableAdapters()) {
                assertArrayEquals(before, logits(base, m), 0f);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            model.deleteAdapter(PeftModel.DEFAULT);
            assertArrayEquals(before, logits(base, m), 0f, "removing the adapter removes its hook");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2", "llama-projection"})
    void cachedGenerationMatchesFullRecomputation(String variant) {
        try (CausalLM base = load(variant.split("-")[0])) {
            Peft.apply(base, PrefixTuningConfig.builder().numVirtualTokens(5).prefixProjection(variant.endsWith("projection")).build(), 11);
            PeftTesting.assertCachedGenerationMatchesRecomputation(base, new long[] {1, 17, 40, 5}, 12);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void onlyThePrefixReceivesGradients(boolean projection) {
        try (CausalLM base = load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.apply(base, PrefixTuningConfig.builder().numVirtualTokens(4).prefixProjection(projection).build());
            PeftTesting.onlyAdapterArraysGetGradients(model, m);
        }
    }

    @Test
    void trainingLowersValidationLossWithGroupedQueryAttention() {
        try (CausalLM base = load("llama")) {
            PeftTesting.assertTrainingLowersValidationLoss(Peft.apply(base, tokens(8)), 3e-2, 40, 0.2);
        }
    }

    @Test
    void gradientCheckpointingGivesTheSameUpdates() {
        List<Map<String, float[]>> finals = new java.util.ArrayList<>();
        double[][] losses = new double[2][];
        for (int i = 0; i < 2; i++) {
            try (CausalLM base = load("llama")) {
                PeftModel model = Peft.apply(base, PrefixTuningConfig.builder().numVirtualTokens(4).prefixProjection(true).build());
                TrainConfig config = TrainConfig.builder().steps(3).batchSize(4).learningRate(1e-2).evalEvery(0).gradientCheckpointing(i == 1).build();
                TrainingRun run = new Trainer(model, counting(16, 10, 3), List.of(), config, List.of()).run();
                losses[i] = run.history().doubleColumn("loss").asDoubleArray();
                finals.add(PeftTesting.values(model.trainableParameters()));
            }
        }
        assertArrayEquals(losses[0], losses[1], 1e-5);
        finals.get(0).forEach((k, v) -> assertArrayEquals(v, finals.get(1).get(k), 1e-5f, k));
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void saveThenLoadReproducesLogitsInPeftsFormat(String family) throws Exception {
        Path dir = tmp.resolve("prefix-" + family);
        float[] trained;
        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.apply(base, tokens(6));
            trained = logits(base, m);
            model.save(dir);
        }
        boolean gpt2 = family.equals("gpt2");
        JsonObject config = PeftTesting.adapterConfig(dir);
        assertEquals("PREFIX_TUNING", config.get("peft_type").getAsString());
        assertEquals("CAUSAL_LM", config.get("task_type").getAsString());
        assertEquals(6, config.get("num_virtual_tokens").getAsInt());
        assertEquals(gpt2 ? 32 : 16, config.get("token_dim").getAsInt(), "head_dim x num_key_value_heads");
        assertEquals(gpt2 ? 4 : 2, config.get("num_attention_heads").getAsInt(), "PEFT stores the kv heads for grouped-query models");
        assertEquals(2, config.get("num_layers").getAsInt());
        assertEquals(1, config.get("num_transformer_submodules").getAsInt());
        assertFalse(config.get("prefix_projection").getAsBoolean());
        assertEquals(gpt2 ? 32 : 16, config.get("encoder_hidden_size").getAsInt());
        assertTrue(config.get("inference_mode").getAsBoolean());
        for (String field : List.of("base_model_name_or_path", "revision", "auto_mapping")) {
            assertTrue(config.has(field), field);
        }
        var header = SafeTensors.readHeader(dir.resolve("adapter_model.safetensors"));
        assertEquals(List.of("prompt_embeddings"), List.copyOf(header.entries().keySet()));
        assertArrayEquals(new long[] {6, 2 * 2 * (gpt2 ? 32 : 16)}, header.entries().get("prompt_embeddings").shape());
        assertEquals("F32", header.entries().get("prompt_embeddings").type().name());

        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            Peft.load(base, dir);
            assertArrayEquals(trained, logits(base, m), 0f);
        }
    }

    @Test
    void projectionSavesItsOutputAndLoadsWithoutTheMlp() throws Exception {
        Path dir = tmp.resolve("prefix-projection");
        float[] trained;
        float[] expectedPrefix;
        try (CausalLM base = load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.apply(base, PrefixTuningConfig.builder().numVirtualTokens(3).prefixProjection(true).encoderHiddenSize(12).build());
            Map<String, NDArray> p = model.trainableParameters();
            // tanh(E W1^T + b1) W2^T + b2, computed here independently of the encoder
            NDArray e = copy(m, p.get("prompt_encoder.embedding.weight"));
            NDArray hidden = e.matMul(copy(m, p.get("prompt_encoder.transform.0.weight")).transpose()).add(p.get("prompt_encoder.transform.0.bias")).tanh();
            expectedPrefix = hidden.matMul(copy(m, p.get("prompt_encoder.transform.2.weight")).transpose())
                    .add(p.get("prompt_encoder.transform.2.bias")).toFloatArray();
            trained = logits(base, m);
            model.save(dir);
        }
        JsonObject config = PeftTesting.adapterConfig(dir);
        assertTrue(config.get("prefix_projection").getAsBoolean());
        assertEquals(12, config.get("encoder_hidden_size").getAsInt());
        assertTrue(config.get("inference_mode").getAsBoolean(), "PEFT then builds the flat embedding on load");
        try (NDManager m = oneml.model.Engines.rootManager().newSubManager()) {
            Map<String, NDArray> saved = SafeTensors.read(dir.resolve("adapter_model.safetensors"), m);
            assertEquals(List.of("prompt_embeddings"), List.copyOf(saved.keySet()));
            assertArrayEquals(new long[] {3, 64}, saved.get("prompt_embeddings").getShape().getShape());
            assertArrayEquals(expectedPrefix, saved.get("prompt_embeddings").toFloatArray(), 1e-6f);
        }
        try (CausalLM base = load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel loaded = Peft.load(base, dir, true);
            assertEquals(List.of("prompt_embeddings"), List.copyOf(loaded.trainableParameters().keySet()), "no MLP after loading");
            assertArrayEquals(trained, logits(base, m), 1e-6f);
            PrefixTuningConfig c = (PrefixTuningConfig) loaded.adapter(PeftModel.DEFAULT).config();
            assertTrue(c.prefixProjection() && c.inferenceMode() && !c.projects(), c.toString());
        }
    }

    private static NDArray copy(NDManager m, NDArray a) {
        return m.zeros(new Shape()).add(a);
    }

    @Test
    void badConfigsAreClearErrors() {
        var zero = assertThrows(IllegalArgumentException.class, () -> tokens(0));
        assertTrue(zero.getMessage().contains("num_virtual_tokens > 0"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tokens(-3));
        assertThrows(IllegalArgumentException.class, () -> PrefixTuningConfig.builder().prefixProjection(true).encoderHiddenSize(-1).build());
        try (CausalLM base = load("llama")) {
            PeftModel model = Peft.apply(base, tokens(2));
            var merge = assertThrows(UnsupportedOperationException.class, model::merge);
            assertTrue(merge.getMessage().contains("cannot be merged"), merge.getMessage());
        }
        Path dir = tmp.resolve("llama-prefix");
        try (CausalLM llama = load("llama")) {
            Peft.apply(llama, tokens(2)).save(dir);
        }
        try (CausalLM gpt2 = load("gpt2")) {
            var e = assertThrows(IllegalArgumentException.class, () -> Peft.load(gpt2, dir));
            assertTrue(e.getMessage().contains("prompt_embeddings"), e.getMessage());
        }
    }

    @Test
    void readableConfig() {
        PrefixTuningConfig c = PrefixTuningConfig.builder().numVirtualTokens(10).prefixProjection(true).build();
        assertEquals("PrefixTuningConfig(num_virtual_tokens=10, prefix_projection=true, encoder_hidden_size=<token_dim>)", c.toString());
        assertEquals("Prefix tuning 10 tokens", c.label());
        assertEquals("PREFIX_TUNING", c.peftType());
    }
}
