package oneml.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.List;
import oneml.LoRAConfig;
import oneml.Models;
import oneml.Peft;
import oneml.TestPaths;
import oneml.io.SafeTensors;
import oneml.model.CausalLM;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** modules_to_save: full trainable copies that replace the base module while the adapter is active. */
class ModulesToSaveTest {
    @TempDir
    Path tmp;

    private static float[] logits(CausalLM model) {
        try (NDManager m = model.manager().newSubManager()) {
            return model.forward(m.create(new long[] {5, 17, 3, 96, 40, 2}, new Shape(1, 6))).toFloatArray();
        }
    }

    /** Changes every trained copy a little, as training would. */
    private static void perturb(PeftModel model) {
        model.trainableParameters().forEach((k, v) -> {
            if (!k.contains("lora_")) {
                v.addi(0.05);
            }
        });
    }

    @Test
    void copiesStartEqualTrainApartAndSaveUnderPeftKeys() {
        Path dir = tmp.resolve("mts");
        float[] trained;
        try (CausalLM base = Models.load(TestPaths.vectors("llama"))) {
            float[] original = logits(base);
            var model = Peft.apply(base, LoRAConfig.builder().r(2).modulesToSave("lm_head", "norm", "o_proj").build());
            assertArrayEquals(original, logits(base), 0f, "copies start equal to the base");
            assertEquals(2 * (2 * (32 + 32) + 2 * (32 + 16)) + 97 * 32 + 32 + 2 * 32 * 32, model.trainableParameterCount());
            perturb(model);
            trained = logits(base);
            assertNotEquals(original[0], trained[0]);
            try (var off = model.disableAdapters()) {
                assertArrayEquals(original, logits(base), 0f, "the base keeps its own values");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            model.save(dir);
            List<String> keys = SafeTensors.names(dir.resolve("adapter_model.safetensors"));
            assertTrue(keys.contains("base_model.model.lm_head.weight"), keys.toString());
            assertTrue(keys.contains("base_model.model.model.norm.weight"), keys.toString());
            assertTrue(keys.contains("base_model.model.model.layers.1.self_attn.o_proj.weight"), keys.toString());
            CausalLM merged = model.mergeAndUnload();
            assertArrayEquals(trained, logits(merged), 1e-6f, "unloading writes the copies into the base");
        }
        try (CausalLM base = Models.load(TestPaths.vectors("llama"))) {
            Peft.load(base, dir);
            assertArrayEquals(trained, logits(base), 0f);
        }
    }

    @Test
    void tiedHeadGetsItsOwnCopy() {
        try (CausalLM base = Models.load(TestPaths.vectors("gpt2"))) {
            NDArray wte = base.stateDict().get("transformer.wte.weight");
            float[] embeddings = wte.toFloatArray();
            var model = Peft.apply(base, LoRAConfig.builder().r(2).modulesToSave("lm_head").build());
            perturb(model);
            assertArrayEquals(embeddings, wte.toFloatArray(), 0f, "training the head copy leaves the embeddings alone");
            var e = assertThrows(IllegalStateException.class, model::mergeAndUnload);
            assertTrue(e.getMessage().contains("tied"), e.getMessage());
        }
    }

    @Test
    void unknownModuleListsTheModules() {
        try (CausalLM base = Models.load(TestPaths.vectors("llama"))) {
            var e = assertThrows(IllegalArgumentException.class, () -> Peft.apply(base, LoRAConfig.builder().modulesToSave("score").build()));
            assertTrue(e.getMessage().contains("'score'") && e.getMessage().contains("lm_head"), e.getMessage());
        }
    }
}
