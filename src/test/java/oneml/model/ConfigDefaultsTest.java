package oneml.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import oneml.Models;
import oneml.io.SafeTensors;
import oneml.io.StorageType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fields a config.json leaves out take the defaults of that model type's own config class in transformers
 * (LlamaConfig, MistralConfig, Qwen2Config, GPT2Config), and a checkpoint tensor the model does not use is reported.
 */
class ConfigDefaultsTest {
    @TempDir
    Path tmp;

    private static ModelConfig config(String json) {
        return ModelConfig.fromJson(JsonParser.parseString(json).getAsJsonObject());
    }

    @Test
    void llamaDefaults() {
        ModelConfig c = config("{\"model_type\": \"llama\"}");
        assertEquals(List.of(32000, 4096, 11008, 32, 32, 32, 128, 2048),
                List.of(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(), c.maxPositions()));
        assertEquals(1e-6, c.normEps());
        assertEquals(10000.0, c.ropeTheta());
        assertFalse(c.tieWordEmbeddings());
        assertFalse(c.qkvBias() || c.outputBias() || c.mlpBias());
        assertFalse(c.hasSlidingWindow());
        assertEquals(List.of(1, 2), List.of(c.bosTokenId(), c.eosTokenId()));
        ModelConfig biased = config("{\"model_type\": \"llama\", \"attention_bias\": true, \"mlp_bias\": true, \"sliding_window\": 8}");
        assertTrue(biased.qkvBias() && biased.outputBias() && biased.mlpBias());
        assertFalse(biased.hasSlidingWindow(), "LlamaConfig has no sliding window");
    }

    @Test
    void mistralDefaults() {
        ModelConfig c = config("{\"model_type\": \"mistral\"}");
        assertEquals(List.of(32000, 4096, 14336, 32, 8, 131072), List.of(c.vocabSize(), c.hiddenSize(), c.intermediateSize(),
                c.numHeads(), c.numKvHeads(), c.maxPositions()));
        assertEquals(4096, c.attentionWindow(0));
        assertEquals(4096, c.attentionWindow(31));
        assertFalse(c.tieWordEmbeddings());
        assertEquals(1e-6, c.normEps());
        assertEquals(10000.0, c.ropeTheta());
        ModelConfig c2 = config("{\"model_type\": \"mistral\", \"sliding_window\": null, \"num_key_value_heads\": null, \"attention_bias\": true}");
        assertFalse(c2.hasSlidingWindow(), "sliding_window null: full attention");
        assertEquals(32, c2.numKvHeads(), "num_key_value_heads null: one per query head");
        assertFalse(c2.qkvBias() || c2.outputBias(), "MistralConfig has no attention_bias");
    }

    @Test
    void qwen2Defaults() {
        ModelConfig c = config("{\"model_type\": \"qwen2\"}");
        assertEquals(List.of(151936, 4096, 22016, 32, 32, 32768), List.of(c.vocabSize(), c.hiddenSize(), c.intermediateSize(),
                c.numHeads(), c.numKvHeads(), c.maxPositions()));
        assertFalse(c.tieWordEmbeddings(), "Qwen2Config's default is an untied head");
        assertTrue(c.qkvBias());
        assertFalse(c.outputBias() || c.mlpBias());
        assertFalse(c.hasSlidingWindow(), "use_sliding_window defaults to false");
        assertEquals(List.of(-1, -1), List.of(c.bosTokenId(), c.eosTokenId()), "Qwen2Config has no token ids of its own");
        assertEquals(0, c.padTokenId());
        ModelConfig sliding = config("{\"model_type\": \"qwen2\", \"num_hidden_layers\": 30, \"use_sliding_window\": true}");
        assertEquals(0, sliding.attentionWindow(27));
        assertEquals(4096, sliding.attentionWindow(28), "from max_window_layers (28) on");
        ModelConfig rope = config("{\"model_type\": \"qwen2\", \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 1000000.0}}");
        assertEquals(1e6, rope.ropeTheta());
        assertThrows(IllegalArgumentException.class, () -> config("{\"model_type\": \"qwen2\", \"rope_parameters\": {\"rope_type\": \"yarn\"}}"));
    }

    @Test
    void gpt2Defaults() {
        ModelConfig c = config("{\"model_type\": \"gpt2\"}");
        assertEquals(List.of(50257, 768, 3072, 12, 12, 1024), List.of(c.vocabSize(), c.hiddenSize(), c.intermediateSize(),
                c.numLayers(), c.numHeads(), c.maxPositions()));
        assertEquals(1e-5, c.normEps());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(List.of(50256, 50256), List.of(c.bosTokenId(), c.eosTokenId()));
        ModelConfig untied = config("{\"model_type\": \"gpt2\", \"n_embd\": 32, \"n_head\": 4, \"tie_word_embeddings\": false}");
        assertTrue(Checkpoints.expectedShapes(untied).containsKey(CausalLM.LM_HEAD), "an untied GPT-2 reads its own head");
        assertThrows(IllegalArgumentException.class, () -> config("{\"model_type\": \"gpt2\", \"scale_attn_weights\": false}"));
    }

    private static String json(ModelConfig c, String dropField) {
        JsonObject o = JsonParser.parseString(c.toJson()).getAsJsonObject();
        o.remove(dropField);
        return o.toString();
    }

    private static float[] logits(CausalLM model) {
        try (NDManager m = model.manager().newSubManager()) {
            return model.forward(m.create(new long[] {5, 17, 3, 96, 40}, new Shape(1, 5))).toFloatArray();
        }
    }

    /** Runs {@code body}, returning what it printed to stderr (where the warnings go). */
    private static <T> String stderrOf(Supplier<T> body) {
        PrintStream err = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            body.get();
        } finally {
            System.setErr(err);
        }
        return buffer.toString(StandardCharsets.UTF_8);
    }

    @Test
    void qwen2WithoutTieFieldKeepsTheFilesHead() throws Exception {
        ModelConfig untied = config("{\"model_type\": \"qwen2\", \"vocab_size\": 97, \"hidden_size\": 32, \"intermediate_size\": 64,"
                + " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"tie_word_embeddings\": false,"
                + " \"bos_token_id\": 1, \"eos_token_id\": 2}");
        Path dir = tmp.resolve("qwen2");
        float[] reference;
        try (CausalLM model = Models.random(untied, 3)) {
            model.save(dir);
            reference = logits(model);
        }
        Files.writeString(dir.resolve("config.json"), json(untied, "tie_word_embeddings"));
        String warnings = stderrOf(() -> {
            try (CausalLM reloaded = Models.load(dir)) {
                assertFalse(reloaded.config().tieWordEmbeddings());
                assertTrue(reloaded.stateDict().containsKey(CausalLM.LM_HEAD));
                assertArrayEquals(reference, logits(reloaded), 0f);
            }
            return null;
        });
        assertFalse(warnings.contains("lm_head"), warnings);
    }

    @Test
    void aHeadTheTiedConfigDoesNotUseIsWarnedAbout() throws Exception {
        ModelConfig untied = config("{\"model_type\": \"llama\", \"vocab_size\": 97, \"hidden_size\": 32, \"intermediate_size\": 64,"
                + " \"num_hidden_layers\": 1, \"num_attention_heads\": 4}");
        Path different = tmp.resolve("different");
        Path copy = tmp.resolve("copy");
        try (CausalLM model = Models.random(untied, 3); NDManager m = model.manager().newSubManager()) {
            model.save(different);
            // a file whose head is a copy of the embeddings, as some tied checkpoints are saved
            Map<String, NDArray> state = new LinkedHashMap<>(model.stateDict());
            state.put(CausalLM.LM_HEAD, model.stateDict().get("model.embed_tokens.weight"));
            Files.createDirectories(copy);
            SafeTensors.write(copy.resolve("model.safetensors"), state, Map.of(), StorageType.F32);
        }
        String tiedJson = json(untied, "tie_word_embeddings").replace("{", "{\"tie_word_embeddings\": true, ");
        Files.writeString(different.resolve("config.json"), tiedJson);
        Files.writeString(copy.resolve("config.json"), tiedJson);
        String warned = stderrOf(() -> {
            try (CausalLM tied = Models.load(different)) {
                assertFalse(tied.stateDict().containsKey(CausalLM.LM_HEAD), "a tied head reads the embeddings");
            }
            return null;
        });
        assertTrue(warned.contains("lm_head.weight is not used") && warned.contains("\"tie_word_embeddings\": false"), warned);
        String quiet = stderrOf(() -> {
            Models.load(copy).close();
            return null;
        });
        assertFalse(quiet.contains("lm_head"), "a head equal to the embeddings loses nothing: " + quiet);
    }

    @Test
    void llamaMlpBiasesLoadAndCount() throws Exception {
        ModelConfig c = config("{\"model_type\": \"llama\", \"vocab_size\": 97, \"hidden_size\": 32, \"intermediate_size\": 64,"
                + " \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"mlp_bias\": true}");
        Path dir = tmp.resolve("mlpbias");
        try (CausalLM model = Models.random(c, 1)) {
            assertTrue(model.stateDict().containsKey("model.layers.0.mlp.up_proj.bias"));
            model.save(dir);
        }
        try (CausalLM back = Models.load(dir)) {
            assertTrue(back.config().mlpBias());
        }
    }
}
