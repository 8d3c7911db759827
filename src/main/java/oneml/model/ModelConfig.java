package oneml.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import oneml.io.BadFileException;
import oneml.io.JsonFields;
import oneml.io.JsonFiles;

/**
 * The shape of a decoder-only language model, read from (and written to) a Hugging Face config.json.
 *
 * @param family            which module tree and weight layout the checkpoint uses
 * @param modelType         the config's {@code model_type} (llama, mistral, qwen2, gpt2, ...)
 * @param qkvBias           q/k/v projections carry a bias (Qwen2, GPT-2)
 * @param outputBias        o_proj / c_proj and MLP projections carry a bias (GPT-2, Llama with attention_bias)
 */
public record ModelConfig(
        Family family,
        String modelType,
        int vocabSize,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int intermediateSize,
        int maxPositions,
        double ropeTheta,
        double normEps,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean outputBias,
        int bosTokenId,
        int eosTokenId) {

    /** The two module trees oneml implements. */
    public enum Family { LLAMA, GPT2 }

    public ModelConfig {
        require(vocabSize > 0, "vocab_size must be positive, got " + vocabSize);
        require(hiddenSize > 0 && numLayers > 0 && numHeads > 0, "hidden_size, num_hidden_layers and num_attention_heads must be positive");
        require(numKvHeads > 0 && numHeads % numKvHeads == 0,
                "num_attention_heads (" + numHeads + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
        require(headDim > 0 && headDim % 2 == 0 || family == Family.GPT2, "head_dim must be even for rotary embeddings, got " + headDim);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("bad model config: " + message);
        }
    }

    /** A Llama-layout config, the shape of oneml's own models and of the benchmarks. */
    public static ModelConfig llama(int vocabSize, int hidden, int layers, int heads, int kvHeads, int intermediate, int maxPositions) {
        return new ModelConfig(Family.LLAMA, "llama", vocabSize, hidden, layers, heads, kvHeads, hidden / heads,
                intermediate, maxPositions, 10000.0, 1e-5, true, false, false, 1, 2);
    }

    public long kvDim() {
        return (long) numKvHeads * headDim;
    }

    /** Reads a config.json; anything wrong with it is a {@link BadFileException} naming the file and the field. */
    public static ModelConfig read(Path configJson) {
        JsonObject o = JsonFiles.readObject(configJson, "model config", JsonFiles.SMALL_FILE_BYTES);
        try {
            checkFieldTypes(o);
            ModelConfig config = fromJson(o);
            config.checkPlausible();
            return config;
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            throw new BadFileException(configJson, (m.startsWith("bad model config: ") ? m.substring(18) : m)
                    + "; fix config.json or use the model's original one", e);
        } catch (RuntimeException e) { // a Gson cast this reader did not foresee: say which kind of problem, not which class
            throw new BadFileException(configJson, "a field has a value of the wrong JSON type; compare config.json with the"
                    + " model's original one", e);
        }
    }

    /** Every numeric, boolean or string field the readers below use must have that JSON type (when present). */
    private static void checkFieldTypes(JsonObject o) {
        for (String key : List.of("vocab_size", "n_embd", "n_head", "n_layer", "n_inner", "n_positions", "hidden_size",
                "num_attention_heads", "num_key_value_heads", "head_dim", "num_hidden_layers", "intermediate_size",
                "max_position_embeddings")) {
            JsonFields.integer(o, key, 0);
        }
        for (String key : List.of("rope_theta", "rms_norm_eps", "layer_norm_epsilon")) {
            JsonFields.number(o, key, 0);
        }
        for (String key : List.of("bos_token_id", "eos_token_id")) {
            JsonElement e = o.get(key);
            if (e != null && e.isJsonArray()) { // several ids: every one a token id
                for (JsonElement id : e.getAsJsonArray()) {
                    tokenId(id, key);
                }
            } else if (e != null && !e.isJsonNull()) {
                tokenId(e, key);
            }
        }
        for (String key : List.of("tie_word_embeddings", "attention_bias", "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn")) {
            JsonFields.bool(o, key, false);
        }
        for (String key : List.of("model_type", "activation_function", "hidden_act")) {
            JsonFields.string(o, key, "");
        }
    }

    private static void tokenId(JsonElement e, String key) {
        if (JsonFields.intValue(e, "field '" + key + "'") < 0) {
            throw new IllegalArgumentException("field '" + key + "' must be a token id (0 or more), got " + JsonFields.show(e));
        }
    }

    /** Sizes a real checkpoint could have: positive, finite, and heads that divide the width where the layout needs it. */
    private void checkPlausible() {
        require(intermediateSize > 0, "the MLP size (intermediate_size / n_inner) must be positive, got " + intermediateSize);
        require(maxPositions > 0, "the context length (max_position_embeddings / n_positions) must be positive, got " + maxPositions);
        require(normEps > 0 && normEps < 1, "the norm epsilon must be a small positive number, got " + normEps);
        require(family == Family.GPT2 || ropeTheta > 0, "rope_theta must be positive, got " + ropeTheta);
        require(family == Family.LLAMA || hiddenSize % numHeads == 0,
                "n_embd (" + hiddenSize + ") must be a multiple of n_head (" + numHeads + ")");
    }

    static ModelConfig fromJson(JsonObject o) {
        String type = str(o, "model_type", "");
        switch (type.toLowerCase(Locale.ROOT)) {
            case "gpt2": {
                int hidden = integer(o, "n_embd");
                int heads = integer(o, "n_head");
                String act = str(o, "activation_function", "gelu_new");
                if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
                    throw new IllegalArgumentException("GPT-2 activation_function '" + act + "' is not supported (gelu_new is)");
                }
                if (bool(o, "scale_attn_by_inverse_layer_idx", false) || bool(o, "reorder_and_upcast_attn", false)) {
                    throw new IllegalArgumentException("GPT-2 options scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported");
                }
                int inner = o.has("n_inner") && !o.get("n_inner").isJsonNull() ? o.get("n_inner").getAsInt() : 4 * hidden;
                return new ModelConfig(Family.GPT2, "gpt2", integer(o, "vocab_size"), hidden, integer(o, "n_layer"), heads, heads,
                        hidden / heads, inner, integer(o, "n_positions"), 0, dbl(o, "layer_norm_epsilon", 1e-5), true, true, true,
                        (int) dbl(o, "bos_token_id", 50256), (int) dbl(o, "eos_token_id", 50256));
            }
            case "llama": case "mistral": case "qwen2": {
                int hidden = integer(o, "hidden_size");
                int heads = integer(o, "num_attention_heads");
                int kv = o.has("num_key_value_heads") && !o.get("num_key_value_heads").isJsonNull() ? o.get("num_key_value_heads").getAsInt() : heads;
                int headDim = o.has("head_dim") && !o.get("head_dim").isJsonNull() ? o.get("head_dim").getAsInt() : hidden / heads;
                String act = str(o, "hidden_act", "silu");
                if (!act.equals("silu")) {
                    throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (silu is)");
                }
                if (o.has("rope_scaling") && !o.get("rope_scaling").isJsonNull()) {
                    throw new IllegalArgumentException("rope_scaling " + o.get("rope_scaling") + " is not supported yet; use a model without rope scaling");
                }
                boolean qwen = type.equals("qwen2");
                boolean attnBias = bool(o, "attention_bias", false);
                // Hugging Face's default for tie_word_embeddings is true, but Llama's config class sets false.
                boolean tie = bool(o, "tie_word_embeddings", !type.equals("llama") && !type.equals("mistral"));
                return new ModelConfig(Family.LLAMA, type, integer(o, "vocab_size"), hidden, integer(o, "num_hidden_layers"), heads, kv,
                        headDim, integer(o, "intermediate_size"), (int) dbl(o, "max_position_embeddings", 2048),
                        dbl(o, "rope_theta", 10000.0), dbl(o, "rms_norm_eps", 1e-6), tie, qwen || attnBias, attnBias,
                        (int) dbl(o, "bos_token_id", 1), (int) dbl(o, "eos_token_id", 2));
            }
            default:
                throw new IllegalArgumentException("model_type '" + type + "' is not supported; oneml loads llama, mistral, qwen2 and gpt2 checkpoints");
        }
    }

    /** The config.json that Hugging Face transformers would write for this model. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (family == Family.GPT2) {
            m.put("architectures", new String[] {"GPT2LMHeadModel"});
            m.put("model_type", "gpt2");
            m.put("activation_function", "gelu_new");
            m.put("vocab_size", vocabSize);
            m.put("n_embd", hiddenSize);
            m.put("n_layer", numLayers);
            m.put("n_head", numHeads);
            m.put("n_inner", intermediateSize);
            m.put("n_positions", maxPositions);
            m.put("n_ctx", maxPositions);
            m.put("layer_norm_epsilon", normEps);
            m.put("tie_word_embeddings", true);
        } else {
            m.put("architectures", new String[] {modelType.equals("qwen2") ? "Qwen2ForCausalLM" : modelType.equals("mistral") ? "MistralForCausalLM" : "LlamaForCausalLM"});
            m.put("model_type", modelType);
            m.put("hidden_act", "silu");
            m.put("vocab_size", vocabSize);
            m.put("hidden_size", hiddenSize);
            m.put("num_hidden_layers", numLayers);
            m.put("num_attention_heads", numHeads);
            m.put("num_key_value_heads", numKvHeads);
            m.put("head_dim", headDim);
            m.put("intermediate_size", intermediateSize);
            m.put("max_position_embeddings", maxPositions);
            m.put("rope_theta", ropeTheta);
            m.put("rms_norm_eps", normEps);
            m.put("tie_word_embeddings", tieWordEmbeddings);
            if (!modelType.equals("qwen2")) {
                m.put("attention_bias", outputBias);
            }
            m.put("mlp_bias", false);
            m.put("rope_scaling", null);
        }
        m.put("bos_token_id", bosTokenId);
        m.put("eos_token_id", eosTokenId);
        m.put("torch_dtype", "float32");
        return new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(m);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s(hidden=%d, layers=%d, heads=%d/%d kv, head_dim=%d, mlp=%d, vocab=%d, ctx=%d%s)",
                modelType, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, vocabSize, maxPositions,
                tieWordEmbeddings ? ", tied head" : "");
    }

    private static int integer(JsonObject o, String key) {
        if (!JsonFields.has(o, key)) {
            throw new IllegalArgumentException("config.json lacks the required field '" + key + "'");
        }
        return JsonFields.integer(o, key);
    }

    private static double dbl(JsonObject o, String key, double fallback) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return fallback;
        }
        if (e.isJsonArray()) { // some configs list several eos ids; the first is the one generation stops on
            return e.getAsJsonArray().size() == 0 ? fallback : JsonFields.doubleValue(e.getAsJsonArray().get(0), "field '" + key + "'");
        }
        return JsonFields.doubleValue(e, "field '" + key + "'");
    }

    private static boolean bool(JsonObject o, String key, boolean fallback) {
        return JsonFields.bool(o, key, fallback);
    }

    private static String str(JsonObject o, String key, String fallback) {
        return JsonFields.string(o, key, fallback);
    }

    static Gson gson() {
        return new Gson();
    }
}
