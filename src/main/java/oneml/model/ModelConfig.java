package oneml.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * @param outputBias        o_proj / c_proj carries a bias (GPT-2, Llama with attention_bias)
 * @param mlpBias           gate/up/down projections carry a bias (Llama with mlp_bias; GPT-2's MLP always has them)
 * @param attentionWindows  per layer, the most key positions a query attends to, itself included (Mistral's and
 *                          Qwen2's sliding window), 0 for full causal attention; an empty list means no window anywhere
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
        int eosTokenId,
        boolean mlpBias,
        List<Integer> attentionWindows) {

    /** The two module trees oneml implements. */
    public enum Family { LLAMA, GPT2 }

    public ModelConfig {
        require(vocabSize > 0, "vocab_size must be positive, got " + vocabSize);
        require(hiddenSize > 0 && numLayers > 0 && numHeads > 0, "hidden_size, num_hidden_layers and num_attention_heads must be positive");
        require(numKvHeads > 0 && numHeads % numKvHeads == 0,
                "num_attention_heads (" + numHeads + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
        require(headDim > 0 && headDim % 2 == 0 || family == Family.GPT2, "head_dim must be even for rotary embeddings, got " + headDim);
        attentionWindows = attentionWindows.stream().allMatch(w -> w == 0) ? List.of() : List.copyOf(attentionWindows);
        require(attentionWindows.isEmpty() || attentionWindows.size() == numLayers,
                "one attention window per layer is needed, got " + attentionWindows.size() + " for " + numLayers + " layers");
        require(attentionWindows.stream().allMatch(w -> w >= 0), "sliding_window must be positive, got " + attentionWindows);
    }

    /** A config without sliding windows or MLP biases (the shape of oneml's own models and of GPT-2). */
    public ModelConfig(Family family, String modelType, int vocabSize, int hiddenSize, int numLayers, int numHeads, int numKvHeads,
            int headDim, int intermediateSize, int maxPositions, double ropeTheta, double normEps, boolean tieWordEmbeddings,
            boolean qkvBias, boolean outputBias, int bosTokenId, int eosTokenId) {
        this(family, modelType, vocabSize, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, maxPositions,
                ropeTheta, normEps, tieWordEmbeddings, qkvBias, outputBias, bosTokenId, eosTokenId, false, List.of());
    }

    /**
     * How many key positions, itself included, a query of {@code layer} attends to: Hugging Face's sliding-window
     * causal mask lets query i see key j when {@code j <= i} and {@code i - j < window}. 0 is full causal attention.
     */
    public int attentionWindow(int layer) {
        return attentionWindows.isEmpty() ? 0 : attentionWindows.get(layer);
    }

    /** The id batches are padded with (labels ignore pads): EOS, or 0 for a config without one. */
    public int padTokenId() {
        return Math.max(eosTokenId, 0);
    }

    /** True when some layer attends through a sliding window. */
    public boolean hasSlidingWindow() {
        return !attentionWindows.isEmpty();
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
                "max_position_embeddings", "max_window_layers")) {
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
        JsonElement window = o.get("sliding_window");
        if (window != null && !window.isJsonNull()) {
            JsonFields.integer(o, "sliding_window", 0);
        }
        for (String key : List.of("tie_word_embeddings", "attention_bias", "mlp_bias", "use_sliding_window", "scale_attn_weights",
                "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn")) {
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

    /**
     * The config as Hugging Face reads it: a field config.json leaves out takes the default of that model type's own
     * config class (transformers' LlamaConfig, MistralConfig, Qwen2Config, GPT2Config), not another family's.
     */
    static ModelConfig fromJson(JsonObject o) {
        String type = str(o, "model_type", "").toLowerCase(Locale.ROOT);
        switch (type) {
            case "gpt2":
                return gpt2(o);
            case "llama": case "mistral": case "qwen2":
                return llamaFamily(o, type);
            default:
                throw new IllegalArgumentException("model_type '" + type + "' is not supported; oneml loads llama, mistral, qwen2 and gpt2 checkpoints");
        }
    }

    /** GPT2Config: 50257 tokens, 1024 positions, 768 wide, 12 layers and heads, gelu_new, eps 1e-5, tied head, ids 50256. */
    private static ModelConfig gpt2(JsonObject o) {
        int hidden = integer(o, "n_embd", 768);
        int heads = positive(o, "n_head", 12);
        String act = str(o, "activation_function", "gelu_new");
        if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
            throw new IllegalArgumentException("GPT-2 activation_function '" + act + "' is not supported (gelu_new is)");
        }
        if (bool(o, "scale_attn_by_inverse_layer_idx", false) || bool(o, "reorder_and_upcast_attn", false)) {
            throw new IllegalArgumentException("GPT-2 options scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported");
        }
        if (!bool(o, "scale_attn_weights", true)) {
            throw new IllegalArgumentException("GPT-2 with scale_attn_weights false is not supported (attention scaled by 1/sqrt(head_dim) is)");
        }
        int inner = integer(o, "n_inner", 4 * hidden);
        // GPT2Config leaves tie_word_embeddings to PretrainedConfig, whose default is true
        return new ModelConfig(Family.GPT2, "gpt2", integer(o, "vocab_size", 50257), hidden, integer(o, "n_layer", 12), heads, heads,
                hidden / heads, inner, integer(o, "n_positions", 1024), 0, dbl(o, "layer_norm_epsilon", 1e-5),
                bool(o, "tie_word_embeddings", true), true, true, (int) dbl(o, "bos_token_id", 50256), (int) dbl(o, "eos_token_id", 50256));
    }

    /**
     * LlamaConfig, MistralConfig and Qwen2Config. Where they differ: key/value heads default to the query heads (Llama),
     * 8 (Mistral) or 32 (Qwen2); positions 2048, 131072 or 32768; biases come from attention_bias and mlp_bias (Llama),
     * never (Mistral), or on q/k/v only, always (Qwen2); the sliding window is Mistral's on every layer (default 4096,
     * null for none) or Qwen2's when use_sliding_window is set, on the layers from max_window_layers on (or as
     * layer_types lists them). All three default to an untied head, rms_norm_eps 1e-6 and rope_theta 10000.
     */
    private static ModelConfig llamaFamily(JsonObject o, String type) {
        boolean mistral = type.equals("mistral");
        boolean qwen = type.equals("qwen2");
        int hidden = integer(o, "hidden_size", 4096);
        int heads = positive(o, "num_attention_heads", 32);
        int layers = integer(o, "num_hidden_layers", 32);
        // absent: the class default; an explicit null: as many as the query heads (all three classes)
        int kv = o.has("num_key_value_heads") ? integer(o, "num_key_value_heads", heads) : mistral ? 8 : qwen ? 32 : heads;
        int headDim = integer(o, "head_dim", hidden / heads);
        String act = str(o, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (silu is)");
        }
        if (o.has("rope_scaling") && !o.get("rope_scaling").isJsonNull()) {
            throw new IllegalArgumentException("rope_scaling " + o.get("rope_scaling") + " is not supported yet; use a model without rope scaling");
        }
        double ropeTheta = dbl(o, "rope_theta", 10000.0);
        if (o.has("rope_parameters") && o.get("rope_parameters").isJsonObject()) { // transformers 5 writes rope_theta here
            JsonObject rope = o.getAsJsonObject("rope_parameters");
            String ropeType = str(rope, "rope_type", "default");
            if (!ropeType.equals("default")) {
                throw new IllegalArgumentException("rope_parameters with rope_type '" + ropeType + "' is not supported yet; use a model without rope scaling");
            }
            ropeTheta = dbl(rope, "rope_theta", ropeTheta);
        }
        boolean attentionBias = !mistral && !qwen && bool(o, "attention_bias", false);
        boolean mlpBias = !mistral && !qwen && bool(o, "mlp_bias", false);
        int vocab = integer(o, "vocab_size", qwen ? 151936 : 32000);
        int intermediate = integer(o, "intermediate_size", mistral ? 14336 : qwen ? 22016 : 11008);
        int positions = integer(o, "max_position_embeddings", mistral ? 4096 * 32 : qwen ? 32768 : 2048);
        // Qwen2Config has no token ids of its own (None): -1 stands for "none" (no BOS prepended, no EOS to stop on)
        int bos = (int) dbl(o, "bos_token_id", qwen ? -1 : 1);
        int eos = (int) dbl(o, "eos_token_id", qwen ? -1 : 2);
        return new ModelConfig(Family.LLAMA, type, vocab, hidden, layers, heads, kv, headDim, intermediate, positions, ropeTheta,
                dbl(o, "rms_norm_eps", 1e-6), bool(o, "tie_word_embeddings", false), qwen || attentionBias, attentionBias, bos, eos,
                mlpBias, slidingWindows(o, type, layers));
    }

    /** The per-layer windows of {@link #attentionWindows}, read as the model type's config class reads them. */
    private static List<Integer> slidingWindows(JsonObject o, String type, int layers) {
        int window;
        boolean[] sliding = new boolean[layers];
        if (type.equals("mistral")) {
            window = window(o, 4096); // MistralConfig ignores layer_types: every layer slides
            java.util.Arrays.fill(sliding, true);
        } else if (type.equals("qwen2")) {
            // Qwen2Config: sliding_window = sliding_window if use_sliding_window else None; then layer_types, when
            // absent, marks the layers from max_window_layers on as sliding
            window = bool(o, "use_sliding_window", false) ? window(o, 4096) : 0;
            JsonElement types = o.get("layer_types");
            if (types != null && types.isJsonArray()) {
                if (types.getAsJsonArray().size() != layers) {
                    throw new IllegalArgumentException("layer_types lists " + types.getAsJsonArray().size() + " layers, num_hidden_layers is " + layers);
                }
                for (int i = 0; i < layers; i++) {
                    String t = types.getAsJsonArray().get(i).getAsString();
                    if (!t.equals("sliding_attention") && !t.equals("full_attention")) {
                        throw new IllegalArgumentException("layer_types entry '" + t + "' is not supported (full_attention and sliding_attention are)");
                    }
                    sliding[i] = t.equals("sliding_attention");
                }
            } else {
                int first = integer(o, "max_window_layers", 28);
                for (int i = 0; i < layers; i++) {
                    sliding[i] = i >= first;
                }
            }
        } else {
            return List.of(); // LlamaConfig has no sliding window
        }
        if (window < 0) {
            throw new IllegalArgumentException("sliding_window must be positive, got " + window);
        }
        List<Integer> windows = new ArrayList<>();
        for (boolean s : sliding) {
            windows.add(s ? window : 0);
        }
        return windows;
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
            m.put("tie_word_embeddings", tieWordEmbeddings);
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
            if (modelType.equals("llama")) {
                m.put("attention_bias", outputBias);
                m.put("mlp_bias", mlpBias);
            }
            m.put("rope_scaling", null);
            putWindows(m);
        }
        m.put("bos_token_id", bosTokenId < 0 ? null : bosTokenId);
        m.put("eos_token_id", eosTokenId < 0 ? null : eosTokenId);
        m.put("torch_dtype", "float32");
        return new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(m);
    }

    /** The window fields in the form the model type's config class reads back to the same windows. */
    private void putWindows(Map<String, Object> m) {
        int window = attentionWindows.stream().mapToInt(Integer::intValue).max().orElse(0);
        if (modelType.equals("mistral")) {
            m.put("sliding_window", window == 0 ? null : window);
        } else if (modelType.equals("qwen2")) {
            m.put("use_sliding_window", window > 0);
            m.put("sliding_window", window == 0 ? null : window);
            int first = 0;
            while (first < numLayers && attentionWindow(first) == 0) {
                first++;
            }
            m.put("max_window_layers", first);
            List<String> types = new ArrayList<>();
            for (int i = 0; i < numLayers; i++) {
                types.add(attentionWindow(i) > 0 ? "sliding_attention" : "full_attention");
            }
            m.put("layer_types", types);
        }
    }

    @Override
    public String toString() {
        String window = "";
        if (hasSlidingWindow()) {
            long sliding = attentionWindows.stream().filter(w -> w > 0).count();
            window = ", sliding window " + attentionWindows.stream().mapToInt(Integer::intValue).max().orElse(0)
                    + (sliding == numLayers ? "" : " on " + sliding + " of " + numLayers + " layers");
        }
        return String.format(Locale.ROOT, "%s(hidden=%d, layers=%d, heads=%d/%d kv, head_dim=%d, mlp=%d, vocab=%d, ctx=%d%s%s)",
                modelType, hiddenSize, numLayers, numHeads, numKvHeads, headDim, intermediateSize, vocabSize, maxPositions,
                tieWordEmbeddings ? ", tied head" : "", window);
    }

    /** The field, or the config class's default when config.json leaves it out or sets it to null. */
    private static int integer(JsonObject o, String key, int fallback) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? fallback : e.getAsInt();
    }

    /** A head count, checked before anything divides by it. */
    private static int positive(JsonObject o, String key, int fallback) {
        int n = integer(o, key, fallback);
        if (n <= 0) {
            throw new IllegalArgumentException(key + " must be positive, got " + n);
        }
        return n;
    }

    /** sliding_window: the class default when absent, none (0) when null, as the config classes take it. */
    private static int window(JsonObject o, int fallback) {
        JsonElement e = o.get("sliding_window");
        return e == null ? fallback : e.isJsonNull() ? 0 : e.getAsInt();
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
