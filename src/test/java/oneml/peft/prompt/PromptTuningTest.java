package oneml.peft.prompt;

import static oneml.peft.PeftTesting.counting;
import static oneml.peft.PeftTesting.load;
import static oneml.peft.PeftTesting.logits;
import static oneml.peft.PeftTesting.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import oneml.Peft;
import oneml.PromptTuningConfig;
import oneml.PromptTuningConfig.Init;
import oneml.data.WordTokenizerBuilder;
import oneml.io.SafeTensors;
import oneml.model.CausalLM;
import oneml.model.TextTokenizer;
import oneml.peft.PeftModel;
import oneml.peft.PeftTesting;
import oneml.train.TrainConfig;
import oneml.train.Trainer;
import oneml.train.TrainingRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Prompt tuning on the tiny Llama and GPT-2: virtual tokens through the forward hooks, the cache, training and PEFT's files. */
class PromptTuningTest {
    @TempDir
    Path tmp;

    private static PromptTuningConfig tokens(int n) {
        return PromptTuningConfig.builder().numVirtualTokens(n).build();
    }

    @Test
    void trainableCountIsVirtualTokensTimesHidden() {
        try (CausalLM base = load("llama")) {
            PeftModel model = Peft.apply(base, tokens(7));
            assertEquals(7 * 32, model.trainableParameterCount());
            assertEquals(List.of(PromptTuningAdapter.KEY), List.copyOf(model.trainableParameters().keySet()));
            assertEquals(base.parameterCount() + 7 * 32, model.allParameterCount());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void virtualTokensChangeTheOutputOnlyWhileEnabled(String family) {
        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            float[] before = logits(base, m);
            PeftModel model = Peft.apply(base, tokens(5));
            float[] prompted = logits(base, m); // also checks the virtual positions are dropped from the logits
            assertNotEquals(before[0], prompted[0]);
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
    @ValueSource(strings = {"llama", "gpt2"})
    void cachedGenerationMatchesFullRecomputation(String family) {
        try (CausalLM base = load(family)) {
            Peft.apply(base, PromptTuningConfig.builder().numVirtualTokens(6).promptTuningInit(Init.SAMPLE_VOCAB).build(), 3);
            long[] out = PeftTesting.assertCachedGenerationMatchesRecomputation(base, new long[] {1, 17, 40, 5}, 12);
            assertTrue(out.length > 0, "generated something: " + Arrays.toString(out));
        }
    }

    @Test
    void onlyThePromptReceivesGradients() {
        try (CausalLM base = load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftTesting.onlyAdapterArraysGetGradients(Peft.apply(base, tokens(4)), m);
        }
    }

    @Test
    void trainingLowersValidationLossAndLeavesTheBaseAlone() {
        try (CausalLM base = load("llama")) {
            PeftModel model = Peft.apply(base, PromptTuningConfig.builder().numVirtualTokens(8).promptTuningInit(Init.SAMPLE_VOCAB).build());
            PeftTesting.assertTrainingLowersValidationLoss(model, 1e-1, 40, 0.2);
        }
    }

    @Test
    void gradientCheckpointingGivesTheSameUpdates() {
        float[][] finals = new float[2][];
        double[][] losses = new double[2][];
        for (int i = 0; i < 2; i++) {
            try (CausalLM base = load("llama")) {
                PeftModel model = Peft.apply(base, tokens(4));
                TrainConfig config = TrainConfig.builder().steps(3).batchSize(4).learningRate(1e-2).evalEvery(0).gradientCheckpointing(i == 1).build();
                TrainingRun run = new Trainer(model, counting(16, 10, 3), List.of(), config, List.of()).run();
                losses[i] = run.history().doubleColumn("loss").asDoubleArray();
                finals[i] = model.trainableParameters().get(PromptTuningAdapter.KEY).toFloatArray();
            }
        }
        assertArrayEquals(losses[0], losses[1], 1e-5);
        assertArrayEquals(finals[0], finals[1], 1e-5f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void saveThenLoadReproducesLogitsInPeftsFormat(String family) throws Exception {
        Path dir = tmp.resolve("prompt-" + family);
        float[] trained;
        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            PeftModel model = Peft.apply(base, tokens(6));
            trained = logits(base, m);
            model.save(dir);
        }
        JsonObject config = PeftTesting.adapterConfig(dir);
        assertEquals("PROMPT_TUNING", config.get("peft_type").getAsString());
        assertEquals("CAUSAL_LM", config.get("task_type").getAsString());
        assertEquals(6, config.get("num_virtual_tokens").getAsInt());
        assertEquals(32, config.get("token_dim").getAsInt());
        assertEquals(1, config.get("num_transformer_submodules").getAsInt());
        assertEquals(4, config.get("num_attention_heads").getAsInt());
        assertEquals(2, config.get("num_layers").getAsInt());
        assertEquals("RANDOM", config.get("prompt_tuning_init").getAsString());
        assertTrue(config.get("prompt_tuning_init_text").isJsonNull());
        assertTrue(config.get("tokenizer_name_or_path").isJsonNull(), "the vectors come without a tokenizer");
        assertTrue(config.get("inference_mode").getAsBoolean());
        for (String field : List.of("base_model_name_or_path", "revision", "auto_mapping", "tokenizer_kwargs")) {
            assertTrue(config.has(field), field);
        }
        var header = SafeTensors.readHeader(dir.resolve("adapter_model.safetensors"));
        assertEquals(List.of("prompt_embeddings"), List.copyOf(header.entries().keySet()));
        assertArrayEquals(new long[] {6, 32}, header.entries().get("prompt_embeddings").shape());
        assertEquals("F32", header.entries().get("prompt_embeddings").type().name());

        try (CausalLM base = load(family); NDManager m = base.manager().newSubManager()) {
            PeftModel loaded = Peft.load(base, dir);
            assertArrayEquals(trained, logits(base, m), 0f);
            assertTrue(((PromptTuningConfig) loaded.adapter(PeftModel.DEFAULT).config()).inferenceMode());
        }
    }

    @Test
    void textInitStartsFromTheTextsTokenEmbeddingsRepeated() throws Exception {
        Path tokenizerDir = tmp.resolve("tokenizer");
        new WordTokenizerBuilder().addText("classify the review").writeTo(tokenizerDir); // ids 4.. for the three words
        Path dir = tmp.resolve("prompt-text");
        try (CausalLM base = load("llama")) {
            base.setTokenizer(TextTokenizer.load(tokenizerDir));
            long[] ids = base.tokenizer().encode("classify the review");
            assertEquals(3, ids.length);
            PeftModel model = Peft.apply(base, PromptTuningConfig.builder().numVirtualTokens(5).promptTuningInitText("classify the review").build());
            float[] prompt = model.trainableParameters().get(PromptTuningAdapter.KEY).toFloatArray();
            float[] table = base.stateDict().get("model.embed_tokens.weight").toFloatArray();
            for (int v = 0; v < 5; v++) {
                int id = (int) ids[v % 3];
                float[] row = Arrays.copyOfRange(table, id * 32, id * 32 + 32);
                assertArrayEquals(row, Arrays.copyOfRange(prompt, v * 32, v * 32 + 32), 0f, "virtual token " + v);
            }
            model.save(dir);
        }
        JsonObject config = PeftTesting.adapterConfig(dir);
        assertEquals("TEXT", config.get("prompt_tuning_init").getAsString());
        assertEquals("classify the review", config.get("prompt_tuning_init_text").getAsString());
        assertEquals(tokenizerDir.toAbsolutePath().toString(), config.get("tokenizer_name_or_path").getAsString(),
                "PEFT refuses TEXT without a tokenizer name");
        try (CausalLM base = load("llama")) { // no tokenizer needed to load: the values come from the file
            PeftModel loaded = Peft.load(base, dir);
            assertEquals(Init.TEXT, ((PromptTuningConfig) loaded.adapter(PeftModel.DEFAULT).config()).promptTuningInit());
        }
    }

    @Test
    void sampleVocabRowsAreRowsOfTheEmbeddingTable() {
        try (CausalLM base = load("gpt2")) {
            PeftModel model = Peft.apply(base, PromptTuningConfig.builder().numVirtualTokens(3).promptTuningInit(Init.SAMPLE_VOCAB).build());
            float[] prompt = model.trainableParameters().get(PromptTuningAdapter.KEY).toFloatArray();
            float[] table = base.stateDict().get("transformer.wte.weight").toFloatArray();
            for (int v = 0; v < 3; v++) {
                float[] row = Arrays.copyOfRange(prompt, v * 32, v * 32 + 32);
                boolean found = false;
                for (int id = 0; id < 97 && !found; id++) {
                    found = Arrays.equals(row, Arrays.copyOfRange(table, id * 32, id * 32 + 32));
                }
                assertTrue(found, "virtual token " + v + " is a vocabulary row");
            }
        }
    }

    @Test
    void badConfigsAreClearErrors() {
        var zero = assertThrows(IllegalArgumentException.class, () -> tokens(0));
        assertTrue(zero.getMessage().contains("num_virtual_tokens > 0"), zero.getMessage());
        var noText = assertThrows(IllegalArgumentException.class,
                () -> PromptTuningConfig.builder().promptTuningInit(Init.TEXT).build());
        assertTrue(noText.getMessage().contains("prompt_tuning_init_text"), noText.getMessage());
        try (CausalLM base = load("llama")) {
            var noTokenizer = assertThrows(IllegalArgumentException.class,
                    () -> Peft.apply(base, PromptTuningConfig.builder().promptTuningInitText("hello").build()));
            assertTrue(noTokenizer.getMessage().contains("tokenizer"), noTokenizer.getMessage());
            PeftModel model = Peft.apply(base, tokens(2));
            var merge = assertThrows(UnsupportedOperationException.class, model::merge);
            assertTrue(merge.getMessage().contains("cannot be merged"), merge.getMessage());
        }
        JsonObject seq2seq = new JsonObject();
        seq2seq.addProperty("peft_type", "PROMPT_TUNING");
        seq2seq.addProperty("num_virtual_tokens", 4);
        seq2seq.addProperty("num_transformer_submodules", 2);
        assertThrows(IllegalArgumentException.class, () -> PromptTuningAdapter.configFromJson(seq2seq));
    }

    @Test
    void readableConfig() {
        PromptTuningConfig c = PromptTuningConfig.builder().numVirtualTokens(8).promptTuningInitText("Classify:").build();
        assertEquals("PromptTuningConfig(num_virtual_tokens=8, prompt_tuning_init=TEXT, prompt_tuning_init_text=\"Classify:\")", c.toString());
        assertEquals("Prompt tuning 8 tokens", c.label());
        assertEquals("PROMPT_TUNING", c.peftType());
    }
}
