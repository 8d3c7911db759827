package oneml.peft.ia3;

import static oneml.peft.PeftTesting.load;
import static oneml.peft.PeftTesting.logits;
import static oneml.peft.PeftTesting.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import oneml.IA3Config;
import oneml.Peft;
import oneml.io.SafeTensors;
import oneml.model.CausalLM;
import oneml.model.Linear;
import oneml.peft.PeftModel;
import oneml.peft.PeftTesting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** (IA)³ on the tiny Llama (4 heads, 2 kv heads) and GPT-2: identity at init, the scaling math, merging, PEFT's files. */
class IA3Test {
    @TempDir
    Path tmp;

    private static IA3Config randomVectors() {
        return IA3Config.builder().initIa3Weights(false).build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void freshAdapterLeavesTheLogitsExactlyUnchanged(String family) {
        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            float[] before = logits(base, m);
            Peft.apply(base, IA3Config.builder().build());
            assertArrayEquals(before, logits(base, m), 0f, "vectors of ones scale by exactly 1");
        }
    }

    @Test
    void defaultsFollowPeftsTablesAndCountsFollowTheFormula() {
        try (CausalLM llama = load("llama"); CausalLM gpt2 = load("gpt2")) {
            PeftModel l = Peft.apply(llama, IA3Config.builder().build());
            IA3Adapter la = (IA3Adapter) l.adapter(PeftModel.DEFAULT);
            assertEquals(List.of("model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj", "model.layers.0.mlp.down_proj",
                    "model.layers.1.self_attn.k_proj", "model.layers.1.self_attn.v_proj", "model.layers.1.mlp.down_proj"), la.targets());
            assertEquals(List.of("model.layers.0.mlp.down_proj", "model.layers.1.mlp.down_proj"), la.feedforwardTargets());
            // per layer: k_proj out 16 (2 kv heads x 8) + v_proj out 16 + down_proj in 64 (intermediate)
            assertEquals(2 * (16 + 16 + 64), l.trainableParameterCount());
            assertEquals(llama.parameterCount() + 2 * (16 + 16 + 64), l.allParameterCount());

            PeftModel g = Peft.apply(gpt2, IA3Config.builder().build());
            assertEquals(List.of("transformer.h.0.mlp.c_proj", "transformer.h.1.mlp.c_proj"),
                    ((IA3Adapter) g.adapter(PeftModel.DEFAULT)).feedforwardTargets(), "mlp.c_proj, not attn.c_proj");
            // per layer: c_attn out 96 (q, k and v) + mlp.c_proj in 128
            assertEquals(2 * (96 + 128), g.trainableParameterCount());
        }
    }

    @Test
    void scalesOutputsOfAttentionTargetsAndInputsOfFeedforwardOnes() {
        try (CausalLM base = load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.apply(base, randomVectors());
            Map<String, NDArray> p = model.trainableParameters();
            NDArray x = m.randomNormal(new Shape(3, 32));
            String k = "model.layers.0.self_attn.k_proj";
            NDArray lk = p.get(IA3Adapter.KEY_PREFIX + k + IA3Adapter.VECTOR);
            assertArrayEquals(new long[] {16, 1}, lk.getShape().getShape());
            Linear kBase = base.linear(k).base();
            float[] expected = kBase.forward(x).mul(m.zeros(new Shape()).add(lk).reshape(1, 16)).toFloatArray();
            assertArrayEquals(expected, base.linear(k).forward(x).toFloatArray(), 1e-6f);

            String down = "model.layers.1.mlp.down_proj";
            NDArray ld = p.get(IA3Adapter.KEY_PREFIX + down + IA3Adapter.VECTOR);
            assertArrayEquals(new long[] {1, 64}, ld.getShape().getShape());
            NDArray h = m.randomNormal(new Shape(3, 64));
            float[] expectedDown = base.linear(down).base().forward(h.mul(m.zeros(new Shape()).add(ld))).toFloatArray();
            assertArrayEquals(expectedDown, base.linear(down).forward(h).toFloatArray(), 1e-6f);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void mergedEqualsUnmergedAndUnmergeRestoresTheBase(String family) {
        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            float[] baseLogits = logits(base, m);
            Map<String, float[]> baseWeights = values(base.stateDict());
            PeftModel model = Peft.apply(base, randomVectors());
            float[] unmerged = logits(base, m);
            assertNotEquals(baseLogits[0], unmerged[0], "random vectors change the output");
            model.merge();
            assertTrue(model.adapter(PeftModel.DEFAULT).isMerged());
            assertArrayEquals(unmerged, logits(base, m), 1e-5f);
            model.unmerge();
            assertArrayEquals(unmerged, logits(base, m), 1e-5f);
            values(base.stateDict()).forEach((k, v) -> assertArrayEquals(baseWeights.get(k), v, 1e-5f, k + " restored by unmerge"));
            try (var off = model.disableAdapters()) {
                assertArrayEquals(baseLogits, logits(base, m), 1e-5f, "unmerge divides back up to float rounding");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            CausalLM merged = model.mergeAndUnload();
            assertTrue(merged.linears().values().stream().allMatch(l -> l instanceof Linear), "unload leaves plain linears");
            assertArrayEquals(unmerged, logits(merged, m), 1e-5f);
        }
    }

    @Test
    void onlyTheVectorsReceiveGradients() {
        try (CausalLM base = load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.apply(base, randomVectors());
            PeftTesting.onlyAdapterArraysGetGradients(model, m);
            assertEquals(6, model.trainableParameters().size());
        }
    }

    @Test
    void trainingLowersValidationLossAndLeavesTheBaseAlone() {
        try (CausalLM base = load("llama")) {
            PeftModel model = Peft.apply(base, IA3Config.builder().targetModules("k_proj", "v_proj", "o_proj", "down_proj").build());
            PeftTesting.assertTrainingLowersValidationLoss(model, 3e-2, 40, 0.2);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void saveThenLoadReproducesLogitsInPeftsFormat(String family) throws Exception {
        Path dir = tmp.resolve("ia3-" + family);
        float[] trained;
        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.apply(base, randomVectors());
            trained = logits(base, m);
            model.save(dir);
        }
        JsonObject config = PeftTesting.adapterConfig(dir);
        assertEquals("IA3", config.get("peft_type").getAsString());
        assertEquals("CAUSAL_LM", config.get("task_type").getAsString());
        assertFalse(config.get("init_ia3_weights").getAsBoolean());
        assertTrue(config.get("inference_mode").getAsBoolean());
        assertEquals(family.equals("gpt2"), config.get("fan_in_fan_out").getAsBoolean());
        boolean gpt2 = family.equals("gpt2");
        assertEquals(gpt2 ? "[\"c_attn\",\"mlp.c_proj\"]" : "[\"k_proj\",\"v_proj\",\"down_proj\"]", config.get("target_modules").toString());
        assertEquals(gpt2 ? "[\"mlp.c_proj\"]" : "[\"down_proj\"]", config.get("feedforward_modules").toString());
        for (String field : List.of("base_model_name_or_path", "modules_to_save", "revision", "exclude_modules", "auto_mapping")) {
            assertTrue(config.has(field), field);
        }

        var header = SafeTensors.readHeader(dir.resolve("adapter_model.safetensors"));
        List<String> keys = new ArrayList<>(header.entries().keySet());
        assertEquals(gpt2 ? 4 : 6, keys.size(), keys.toString());
        String attention = gpt2 ? "base_model.model.transformer.h.0.attn.c_attn.ia3_l" : "base_model.model.model.layers.0.self_attn.k_proj.ia3_l";
        String ffn = gpt2 ? "base_model.model.transformer.h.1.mlp.c_proj.ia3_l" : "base_model.model.model.layers.1.mlp.down_proj.ia3_l";
        assertArrayEquals(new long[] {gpt2 ? 96 : 16, 1}, header.entries().get(attention).shape(), keys.toString());
        assertArrayEquals(new long[] {1, gpt2 ? 128 : 64}, header.entries().get(ffn).shape(), keys.toString());
        assertEquals("F32", header.entries().get(ffn).type().name());

        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            PeftModel loaded = Peft.load(base, dir);
            assertArrayEquals(trained, logits(base, m), 0f);
            assertEquals(((IA3Adapter) loaded.adapter(PeftModel.DEFAULT)).feedforwardTargets().size(), 2);
        }
    }

    @Test
    void explicitTargetsWithoutTheFeedforwardModuleWriteAFilePeftAccepts() throws Exception {
        Path dir = tmp.resolve("ia3-qv");
        try (CausalLM base = load("llama")) {
            Peft.apply(base, IA3Config.builder().targetModules("q_proj", "v_proj").build()).save(dir);
        }
        JsonObject config = PeftTesting.adapterConfig(dir);
        assertEquals("[\"q_proj\",\"v_proj\"]", config.get("target_modules").toString());
        assertEquals("[]", config.get("feedforward_modules").toString(), "PEFT requires a subset of target_modules");
        try (CausalLM base = load("llama")) {
            assertEquals(2 * (32 + 16), Peft.load(base, dir, true).trainableParameterCount(), "q_proj out 32, v_proj out 16, per layer");
        }
    }

    @Test
    void badConfigsAreClearErrors() {
        var subset = assertThrows(IllegalArgumentException.class,
                () -> IA3Config.builder().targetModules("k_proj", "v_proj").feedforwardModules("down_proj").build());
        assertTrue(subset.getMessage().contains("subset of target_modules"), subset.getMessage());
        try (CausalLM base = load("llama")) {
            var unknown = assertThrows(IllegalArgumentException.class,
                    () -> Peft.apply(base, IA3Config.builder().targetModules("k_proj", "query").build()));
            assertTrue(unknown.getMessage().contains("[query]"), unknown.getMessage());
            assertTrue(unknown.getMessage().contains("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"), unknown.getMessage());
        }
        JsonObject regex = new JsonObject();
        regex.addProperty("peft_type", "IA3");
        regex.addProperty("target_modules", ".*k_proj");
        var e = assertThrows(IllegalArgumentException.class, () -> IA3Adapter.configFromJson(regex));
        assertTrue(e.getMessage().contains("regular expression"), e.getMessage());
    }

    @Test
    void configReadsBackFromItsOwnJson() {
        try (CausalLM base = load("gpt2")) {
            PeftModel model = Peft.apply(base, IA3Config.builder().targetModules("c_attn", "mlp.c_proj", "mlp.c_fc")
                    .feedforwardModules("mlp.c_proj").build());
            IA3Config back = IA3Adapter.configFromJson(model.adapter(PeftModel.DEFAULT).toAdapterConfig());
            assertEquals(List.of("c_attn", "mlp.c_proj", "mlp.c_fc"), back.targetModules());
            assertEquals(List.of("mlp.c_proj"), back.feedforwardModules());
            assertEquals(6, model.adapter(PeftModel.DEFAULT).targets().size());
            assertEquals("IA3Config(target_modules=[c_attn, mlp.c_proj, mlp.c_fc], feedforward_modules=[mlp.c_proj])", back.toString());
            assertEquals("IA3", back.label());
        }
    }
}
