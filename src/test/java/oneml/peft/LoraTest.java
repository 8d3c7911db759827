package oneml.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import oneml.LoRAConfig;
import oneml.Models;
import oneml.Peft;
import oneml.TestPaths;
import oneml.io.SafeTensors;
import oneml.model.CausalLM;
import oneml.model.Linear;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The math of LoRA and DoRA, checked against the base model, merging, gradients and PEFT's file format. */
class LoraTest {
    @TempDir
    Path tmp;

    private static CausalLM load(String family) {
        return Models.load(TestPaths.vectors(family));
    }

    private static float[] logits(CausalLM model, NDManager m) {
        NDArray ids = m.create(new long[] {5, 17, 3, 96, 40, 2, 11, 63, 7, 1, 8, 9, 10, 11, 12, 13}, new ai.djl.ndarray.types.Shape(2, 8));
        return model.forward(ids).toFloatArray();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void freshAdapterLeavesTheBaseOutputUnchanged(boolean dora) {
        try (CausalLM base = load("llama"); NDManager m = base.manager().newSubManager()) {
            float[] before = logits(base, m);
            var model = Peft.apply(base, LoRAConfig.builder().r(4).alpha(8).useDora(dora).build());
            assertArrayEquals(before, logits(base, m), dora ? 1e-5f : 0f);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-lora", "llama-dora", "gpt2-lora", "gpt2-dora"})
    void mergedEqualsUnmergedAndUnmergeRestoresTheBase(String variant) {
        String family = variant.split("-")[0];
        boolean dora = variant.endsWith("dora");
        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            float[] baseLogits = logits(base, m);
            var config = LoRAConfig.builder().r(4).alpha(8).useDora(dora).initLoraWeights(false).targetModules("all-linear").build();
            var model = Peft.apply(base, config);
            if (dora) { // make the magnitude differ from the weight norm, so DoRA's rescaling is exercised
                model.trainableParameters().forEach((k, v) -> {
                    if (k.endsWith("lora_magnitude_vector")) {
                        v.muli(1.1);
                    }
                });
            }
            float[] unmerged = logits(base, m);
            assertNotEquals(baseLogits[0], unmerged[0], "random A and B must change the output");
            model.merge();
            assertArrayEquals(unmerged, logits(base, m), 1e-5f);
            model.unmerge();
            assertArrayEquals(unmerged, logits(base, m), 1e-5f);
            try (var off = model.disableAdapters()) {
                assertArrayEquals(baseLogits, logits(base, m), 1e-5f);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            CausalLM merged = model.mergeAndUnload();
            assertTrue(merged.linears().values().stream().allMatch(l -> l instanceof Linear), "unload leaves plain linears");
            assertArrayEquals(unmerged, logits(merged, m), 1e-5f);
        }
    }

    @Test
    void trainableCountsFollowTheFormula() {
        try (CausalLM base = load("llama")) {
            var model = Peft.apply(base, LoRAConfig.builder().r(16).alpha(32).dropout(0.1).targetModules("q_proj", "v_proj").build());
            // q_proj 32 -> 32 and v_proj 32 -> 16 in each of 2 layers
            long expected = 2 * (16 * (32 + 32) + 16 * (32 + 16));
            assertEquals(expected, model.trainableParameterCount());
            assertEquals(base.parameterCount() + expected, model.allParameterCount());
            assertTrue(model.trainableParametersSummary().startsWith("trainable params: " + String.format(java.util.Locale.ROOT, "%,d", expected) + " || all params: "));

            var dora = Peft.apply(load("llama"), LoRAConfig.builder().r(2).targetModules("o_proj").useDora(true).build());
            assertEquals(2 * (2 * (32 + 32) + 32), dora.trainableParameterCount());
            dora.close();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void onlyAdapterParametersReceiveGradients(boolean dora) {
        try (CausalLM base = load("llama"); NDManager m = base.manager().newSubManager()) {
            var model = Peft.apply(base, LoRAConfig.builder().r(4).useDora(dora).initLoraWeights(false).build());
            NDArray ids = m.create(new long[] {5, 17, 3, 96, 40, 2, 11, 63}, new ai.djl.ndarray.types.Shape(1, 8));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(CausalLM.causalLmLoss(model.forward(ids), ids));
            }
            Set<NDArray> trainable = Set.copyOf(model.trainableParameters().values());
            for (NDArray p : trainable) {
                NDArray g = p.getGradient();
                assertTrue(g.abs().sum().getFloat() > 0, "adapter array gets a gradient");
                g.close();
            }
            for (var e : base.stateDict().entrySet()) {
                assertFalse(e.getValue().hasGradient(), e.getKey() + " is frozen");
            }
            assertEquals(dora ? 12 : 8, trainable.size());
        }
    }

    @Test
    void unknownTargetListsTheModulesThatExist() {
        try (CausalLM base = load("llama")) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> Peft.apply(base, LoRAConfig.builder().targetModules("q_proj", "query").build()));
            assertTrue(e.getMessage().contains("[query]"), e.getMessage());
            assertTrue(e.getMessage().contains("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"), e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void saveThenLoadReproducesOutputsInPeftsFormat(String family) throws Exception {
        Path dir = tmp.resolve("adapter-" + family);
        float[] trained;
        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            var model = Peft.apply(base, LoRAConfig.builder().r(4).alpha(16).useDora(true).initLoraWeights(false).build());
            trained = logits(base, m);
            model.save(dir);
        }
        JsonObject config = JsonParser.parseString(Files.readString(dir.resolve("adapter_config.json"))).getAsJsonObject();
        assertEquals("LORA", config.get("peft_type").getAsString());
        assertEquals("CAUSAL_LM", config.get("task_type").getAsString());
        assertEquals(4, config.get("r").getAsInt());
        assertEquals(16.0, config.get("lora_alpha").getAsDouble());
        assertTrue(config.get("use_dora").getAsBoolean());
        assertEquals(family.equals("gpt2"), config.get("fan_in_fan_out").getAsBoolean());
        List<String> keys = SafeTensors.names(dir.resolve("adapter_model.safetensors"));
        String prefix = family.equals("gpt2") ? "base_model.model.transformer.h.0.attn.c_attn." : "base_model.model.model.layers.0.self_attn.q_proj.";
        assertTrue(keys.contains(prefix + "lora_A.weight"), keys.toString());
        assertTrue(keys.contains(prefix + "lora_B.weight"), keys.toString());
        assertTrue(keys.contains(prefix + "lora_magnitude_vector"), keys.toString());
        var header = SafeTensors.readHeader(dir.resolve("adapter_model.safetensors"));
        var a = header.entries().get(prefix + "lora_A.weight");
        assertEquals("F32", a.type().name());
        assertArrayEquals(new long[] {4, 32}, a.shape());
        assertArrayEquals(new long[] {family.equals("gpt2") ? 96 : 32, 4}, header.entries().get(prefix + "lora_B.weight").shape());

        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            var loaded = Peft.load(base, dir);
            assertArrayEquals(trained, logits(base, m), 0f);
            assertTrue(loaded.toString().contains("DoRA"), loaded.toString());
        }
    }

    @Test
    void loadsKeysThatCarryPeftsAdapterName() throws Exception {
        Path dir = tmp.resolve("named");
        float[] expected;
        try (CausalLM base = load("llama"); NDManager m = base.manager().newSubManager()) {
            var model = Peft.apply(base, LoRAConfig.builder().r(2).useDora(true).initLoraWeights(false).build());
            expected = logits(base, m);
            model.save(dir);
            // rewrite the weights with in-memory PEFT names (".default." inside), as older PEFT files have
            Map<String, NDArray> renamed = new java.util.LinkedHashMap<>();
            SafeTensors.read(dir.resolve("adapter_model.safetensors"), m).forEach((k, v) -> renamed.put(
                    k.endsWith("lora_magnitude_vector") ? k + ".default.weight" : k.replace(".weight", ".default.weight"), v));
            SafeTensors.write(dir.resolve("adapter_model.safetensors"), renamed, Map.of(), oneml.io.StorageType.F32);
        }
        try (CausalLM base = load("llama"); NDManager m = base.manager().newSubManager()) {
            Peft.load(base, dir);
            assertArrayEquals(expected, logits(base, m), 0f);
        }
    }

    @Test
    void adapterForAnotherModelIsAClearError() {
        Path dir = tmp.resolve("gpt2-adapter");
        try (CausalLM gpt2 = load("gpt2")) {
            Peft.apply(gpt2, LoRAConfig.builder().r(2).targetModules("c_attn").build()).save(dir);
        }
        try (CausalLM llama = load("llama")) {
            var e = assertThrows(IllegalArgumentException.class, () -> Peft.load(llama, dir));
            assertTrue(e.getMessage().contains("c_attn"), e.getMessage());
        }
    }

    @Test
    void severalAdaptersSwitch() {
        try (CausalLM base = load("llama"); NDManager m = base.manager().newSubManager()) {
            float[] baseLogits = logits(base, m);
            var model = Peft.apply(base, LoRAConfig.builder().r(2).initLoraWeights(false).build());
            float[] first = logits(base, m);
            model.addAdapter("second", LoRAConfig.builder().r(3).targetModules("o_proj").initLoraWeights(false).build());
            assertArrayEquals(first, logits(base, m), 0f, "a new adapter starts inactive");
            model.setAdapter("second");
            float[] second = logits(base, m);
            assertNotEquals(first[0], second[0]);
            assertEquals(2 * 3 * (32 + 32), model.trainableParameterCount());
            model.deleteAdapter("second");
            assertArrayEquals(first, logits(base, m), 0f);
            model.deleteAdapter("default");
            assertArrayEquals(baseLogits, logits(base, m), 0f);
        }
    }
}
