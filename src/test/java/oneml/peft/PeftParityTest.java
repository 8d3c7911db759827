package oneml.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import oneml.LoRAConfig;
import oneml.Models;
import oneml.Peft;
import oneml.QLoRAConfig;
import oneml.io.BadFileException;
import oneml.model.CausalLM;
import oneml.quant.QuantConfig;
import oneml.train.TrainConfig;
import oneml.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Where oneml's adapters must behave as Hugging Face PEFT's do: saved fields, loading frozen, QLoRA on 4 bits. */
class PeftParityTest {
    @TempDir
    Path tmp;

    private static void rewriteConfig(Path dir, java.util.function.Consumer<JsonObject> change) throws Exception {
        JsonObject o = PeftTesting.adapterConfig(dir);
        change.accept(o);
        Files.writeString(dir.resolve(AdapterFiles.CONFIG), o.toString());
    }

    @Test
    void adapterConfigHasTheFieldsPeftWrites() throws Exception {
        Path dir = tmp.resolve("lora");
        try (CausalLM base = PeftTesting.load("llama")) {
            Peft.apply(base, LoRAConfig.builder().r(2).build()).save(dir);
        }
        JsonObject o = PeftTesting.adapterConfig(dir);
        // LoraConfig's defaults, as PEFT's save_pretrained writes them
        assertFalse(o.get("lora_bias").getAsBoolean());
        assertEquals(JsonNull.INSTANCE, o.get("layer_replication"));
        assertEquals(JsonNull.INSTANCE, o.get("megatron_config"));
        assertEquals("megatron.core", o.get("megatron_core").getAsString());
        assertEquals(new JsonObject(), o.get("loftq_config"));
        assertFalse(Files.exists(dir.resolve(AdapterFiles.CARD)), "a float32 base has nothing for the model card to record");

        rewriteConfig(dir, c -> c.addProperty("lora_bias", true));
        try (CausalLM base = PeftTesting.load("llama")) {
            var e = assertThrows(BadFileException.class, () -> Peft.load(base, dir));
            assertTrue(e.getMessage().contains("lora_bias"), e.getMessage());
        }
        rewriteConfig(dir, c -> {
            c.addProperty("lora_bias", false);
            c.add("layer_replication", com.google.gson.JsonParser.parseString("[[0, 2], [1, 2]]"));
        });
        try (CausalLM base = PeftTesting.load("llama")) {
            var e = assertThrows(BadFileException.class, () -> Peft.load(base, dir));
            assertTrue(e.getMessage().contains("layer_replication"), e.getMessage());
        }
    }

    @Test
    void fanInFanOutIsFalseOnA4BitGpt2AndLoadingAcceptsBoth() throws Exception {
        Path dir = tmp.resolve("gpt2-qlora");
        float[] trained;
        try (CausalLM base = PeftTesting.load("gpt2"); NDManager m = base.manager().newSubManager()) {
            var model = Peft.apply(base, QLoRAConfig.builder().r(2).targetModules("c_attn").initLoraWeights("false").build());
            trained = PeftTesting.logits(base, m);
            model.save(dir);
        }
        assertFalse(PeftTesting.adapterConfig(dir).get("fan_in_fan_out").getAsBoolean(),
                "PEFT writes false: a 4-bit GPT-2 has Linear4bit layers, not Conv1D");
        for (boolean fanInFanOut : new boolean[] {false, true}) {
            rewriteConfig(dir, c -> c.addProperty("fan_in_fan_out", fanInFanOut));
            try (CausalLM base = PeftTesting.load("gpt2"); NDManager m = base.manager().newSubManager()) {
                Peft.load(base, dir, QuantConfig.qlora());
                assertArrayEquals(trained, PeftTesting.logits(base, m), 0f, "fan_in_fan_out " + fanInFanOut);
            }
            try (CausalLM base = PeftTesting.load("gpt2")) {
                assertEquals(2 * 2 * (32 + 96), Peft.load(base, dir, true).trainableParameterCount(), "2 layers of c_attn, r=2, on a float32 GPT-2 too");
            }
        }
    }

    @Test
    void loadedAdaptersAreFrozenUnlessAskedToTrain() {
        Path dir = tmp.resolve("lora");
        try (CausalLM base = PeftTesting.load("llama")) {
            Peft.apply(base, LoRAConfig.builder().r(2).bias("all").initLoraWeights("false").build()).save(dir);
        }
        TrainConfig config = TrainConfig.builder().steps(2).batchSize(4).learningRate(1e-2).build();
        try (CausalLM base = PeftTesting.load("llama")) {
            PeftModel frozen = Peft.load(base, dir);
            assertFalse(frozen.isTrainable(PeftModel.DEFAULT));
            assertTrue(frozen.trainableParameters().isEmpty());
            assertTrue(frozen.adapter(PeftModel.DEFAULT).parameters().values().stream().noneMatch(NDArray::hasGradient),
                    "no array of a frozen adapter records gradients, the biases of bias=\"all\" included");
            assertTrue(frozen.trainableParametersSummary().startsWith("trainable params: 0 ||"), frozen.trainableParametersSummary());
            assertTrue(frozen.toString().contains("[frozen]"), frozen.toString());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(frozen, PeftTesting.counting(8, 10, 1), List.of(), config, List.of()));
            assertTrue(e.getMessage().contains("Peft.load(base, dir, true)"), e.getMessage());
        }
        try (CausalLM base = PeftTesting.load("llama")) {
            PeftModel trainable = Peft.load(base, dir, true);
            assertTrue(trainable.isTrainable(PeftModel.DEFAULT));
            Map<String, float[]> before = PeftTesting.values(trainable.trainableParameters());
            assertEquals(2 * (2 * (32 + 32) + 2 * (32 + 16)), trainable.trainableParameterCount() - biasCount(base), "2 layers of q_proj and v_proj, r=2");
            new Trainer(trainable, PeftTesting.counting(8, 10, 1), List.of(), config, List.of()).run();
            String a = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
            assertNotEquals(before.get(a)[0], trainable.trainableParameters().get(a).toFloatArray()[0], "training continued");
        }
    }

    private static long biasCount(CausalLM base) {
        return base.linears().values().stream().filter(l -> l.base().bias() != null).mapToLong(l -> l.base().bias().size()).sum();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void qloraAdaptersLoadOntoThe4BitBaseWhenAsked(boolean doubleQuant) throws Exception {
        Path dir = tmp.resolve("qlora");
        float[] trained;
        try (CausalLM base = PeftTesting.load("llama"); NDManager m = base.manager().newSubManager()) {
            var model = Peft.apply(base, QLoRAConfig.builder().r(2).doubleQuant(doubleQuant).initLoraWeights("false").build());
            trained = PeftTesting.logits(base, m);
            model.save(dir);
        }
        String card = Files.readString(dir.resolve(AdapterFiles.CARD));
        assertTrue(card.contains(AdapterFiles.QUANTIZATION_PREFIX), card);
        assertTrue(card.contains("- bnb_4bit_use_double_quant: " + (doubleQuant ? "True" : "False")), card);
        QuantConfig quant = QuantConfig.nf4().withDoubleQuant(doubleQuant);
        assertEquals(quant, AdapterFiles.readTrainingQuantization(dir));

        try (CausalLM base = PeftTesting.load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.load(base, dir, quant);
            assertTrue(base.isQuantized());
            assertInstanceOf(QLoRAConfig.class, model.adapter(PeftModel.DEFAULT).config());
            assertTrue(model.notes().isEmpty(), model.notes().toString());
            assertArrayEquals(trained, PeftTesting.logits(base, m), 0f, "the same 4-bit base as in training");
        }
        try (CausalLM base = PeftTesting.load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.load(base, dir);
            assertFalse(base.isQuantized(), "nothing quantises the caller's base behind its back");
            assertEquals(1, model.notes().size());
            assertTrue(model.toString().contains("note: adapter 'default' was trained on a 4-bit base"), model.toString());
            assertTrue(model.toString().contains("QuantConfig.qlora()"), model.toString());
        }
        // a base stored in 4 bits already (a bitsandbytes checkpoint): the adapter is QLoRA over it, no note
        Path quantised = tmp.resolve("base-4bit");
        try (CausalLM base = PeftTesting.load("llama")) {
            base.quantize(quant);
            base.save(quantised);
        }
        try (CausalLM base = Models.load(quantised); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.load(base, dir);
            assertInstanceOf(QLoRAConfig.class, model.adapter(PeftModel.DEFAULT).config());
            assertTrue(model.notes().isEmpty());
            assertArrayEquals(trained, PeftTesting.logits(base, m), 0f);
            QuantConfig other = QuantConfig.fp4();
            var e = assertThrows(IllegalArgumentException.class, () -> Peft.load(base, dir, other));
            assertTrue(e.getMessage().contains("quantised already"), e.getMessage());
        }
    }
}
