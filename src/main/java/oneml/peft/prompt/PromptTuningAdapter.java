package oneml.peft.prompt;

import static oneml.peft.ConfigJson.has;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import oneml.PromptTuningConfig;
import oneml.model.CausalLM;
import oneml.model.ModelConfig;
import oneml.peft.Adapter;

/**
 * A prompt-tuning adapter: one learned [num_virtual_tokens, hidden] array, prepended to the input embeddings
 * through the model's forward hooks.
 *
 * <p>File layout, as PEFT writes it (checked in huggingface/peft {@code src/peft/utils/save_and_load.py}:
 * prompt-learning methods save {@code to_return["prompt_embeddings"]}, the prompt encoder's embedding weight;
 * {@code src/peft/tuners/prompt_tuning/model.py}: {@code Embedding(num_virtual_tokens * num_transformer_submodules,
 * token_dim)}): the single key {@code prompt_embeddings} of shape [nvt, token_dim], token_dim = hidden size.
 */
public final class PromptTuningAdapter implements Adapter {
    public static final String KEY = "prompt_embeddings";

    private final String name;
    private final PromptTuningConfig config;
    private final CausalLM model;
    private final NDManager manager;
    private final NDArray prompt;
    private final VirtualTokens hooks;
    private final String tokenizerName;

    private PromptTuningAdapter(String name, PromptTuningConfig config, CausalLM model, NDManager manager, NDArray prompt,
            String tokenizerName) {
        this.name = name;
        this.config = config;
        this.model = model;
        this.manager = manager;
        this.prompt = prompt;
        this.hooks = new VirtualTokens(prompt);
        this.tokenizerName = tokenizerName;
    }

    /** Creates the virtual tokens (initialised as the config says, from {@code seed}) and installs their hook. */
    public static PromptTuningAdapter attach(CausalLM model, String name, PromptTuningConfig config, long seed) {
        int nvt = config.numVirtualTokens();
        int hidden = model.config().hiddenSize();
        String tokenizerName = config.tokenizerNameOrPath();
        boolean text = config.promptTuningInit() == PromptTuningConfig.Init.TEXT;
        if (tokenizerName == null && model.hasTokenizer()) {
            tokenizerName = model.tokenizer().file().toAbsolutePath().getParent().toString();
        }
        if (text && !config.inferenceMode() && !model.hasTokenizer()) {
            throw new IllegalArgumentException("prompt_tuning_init TEXT encodes its text with the model's tokenizer, and this model has none"
                    + " (attach one with setTokenizer(TextTokenizer.load(path)), or use RANDOM or SAMPLE_VOCAB)");
        }
        float[] init = config.inferenceMode() ? new float[nvt * hidden] : initialValues(model, config, new Random(seed));
        NDManager manager = model.manager().newSubManager();
        NDArray prompt = manager.create(init, new Shape(nvt, hidden));
        prompt.setRequiresGradient(true);
        PromptTuningAdapter adapter = new PromptTuningAdapter(name, config, model, manager, prompt, tokenizerName);
        model.addHooks(adapter.hooks);
        return adapter;
    }

    /** PEFT's PromptEmbedding init: N(0, 1) as nn.Embedding draws it, or rows of the word embeddings. */
    private static float[] initialValues(CausalLM model, PromptTuningConfig config, Random random) {
        int nvt = config.numVirtualTokens();
        int vocab = model.config().vocabSize();
        long[] ids = new long[nvt];
        switch (config.promptTuningInit()) {
            case RANDOM: {
                float[] values = new float[nvt * model.config().hiddenSize()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) random.nextGaussian();
                }
                return values;
            }
            case SAMPLE_VOCAB:
                for (int i = 0; i < nvt; i++) {
                    ids[i] = random.nextInt(vocab);
                }
                break;
            case TEXT: { // the text's tokens, cut to nvt or repeated until there are nvt of them
                // The text is encoded without special tokens; PEFT's AutoTokenizer call adds them (e.g. Llama's BOS).
                long[] tokens = model.tokenizer().encode(config.promptTuningInitText());
                if (tokens.length == 0) {
                    throw new IllegalArgumentException("prompt_tuning_init_text \"" + config.promptTuningInitText() + "\" encodes to no tokens");
                }
                for (int i = 0; i < nvt; i++) {
                    ids[i] = tokens[i % tokens.length];
                    if (ids[i] >= vocab) {
                        throw new IllegalArgumentException("the tokenizer gives id " + ids[i] + " for prompt_tuning_init_text, beyond the model's "
                                + vocab + " embeddings: is it the model's own tokenizer?");
                    }
                }
            }
        }
        try (NDManager scratch = model.manager().newSubManager()) {
            NDArray idArray = scratch.create(ids, new Shape(nvt));
            return Embedding.embedding(idArray, model.baseParam(embeddingName(model.config())), SparseFormat.DENSE).singletonOrThrow().toFloatArray();
        }
    }

    static String embeddingName(ModelConfig config) {
        return config.family() == ModelConfig.Family.GPT2 ? "transformer.wte.weight" : "model.embed_tokens.weight";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public PromptTuningConfig config() {
        return config;
    }

    @Override
    public Map<String, NDArray> parameters() {
        return Map.of(KEY, prompt);
    }

    /** Prompt tuning adds inputs rather than touching modules. */
    @Override
    public List<String> targets() {
        return List.of();
    }

    @Override
    public void setEnabled(boolean enabled) {
        hooks.setEnabled(enabled);
    }

    @Override
    public void setTraining(boolean training) {
        // no dropout or other training-only behaviour
    }

    /** Virtual tokens are extra inputs, not a change of weights: there is nothing to fold in (PEFT refuses too). */
    @Override
    public void merge() {
        throw new UnsupportedOperationException("prompt tuning cannot be merged into the base weights: its virtual tokens are extra inputs;"
                + " keep the adapter attached (or save it) instead");
    }

    @Override
    public void unmerge() {
        // never merged
    }

    @Override
    public boolean isMerged() {
        return false;
    }

    @Override
    public void remove() {
        model.removeHooks(hooks);
        manager.close();
    }

    /** PEFT's PromptTuningConfig fields (PromptLearningConfig's plus the init ones), as save_pretrained writes them. */
    @Override
    public JsonObject toAdapterConfig() {
        ModelConfig mc = model.config();
        JsonObject o = new JsonObject();
        o.add("auto_mapping", null);
        o.addProperty("inference_mode", true);
        o.addProperty("num_attention_heads", mc.numHeads());
        o.addProperty("num_layers", mc.numLayers());
        o.addProperty("num_transformer_submodules", 1);
        o.addProperty("num_virtual_tokens", config.numVirtualTokens());
        o.addProperty("peft_type", "PROMPT_TUNING");
        o.addProperty("prompt_tuning_init", config.promptTuningInit().name());
        o.addProperty("prompt_tuning_init_text", config.promptTuningInitText());
        o.add("revision", null);
        o.addProperty("task_type", "CAUSAL_LM");
        o.addProperty("token_dim", mc.hiddenSize());
        o.add("tokenizer_kwargs", null);
        o.addProperty("tokenizer_name_or_path", tokenizerName);
        return o;
    }

    /**
     * Reads PEFT's adapter_config.json fields for PROMPT_TUNING. The result is in inference mode, as PEFT's
     * from_pretrained makes it: the values come from the file, so TEXT needs no tokenizer here.
     */
    public static PromptTuningConfig configFromJson(JsonObject o) {
        if (!has(o, "num_virtual_tokens")) {
            throw new IllegalArgumentException("adapter_config.json has no num_virtual_tokens");
        }
        checkDecoderOnly(o);
        PromptTuningConfig.Builder b = PromptTuningConfig.builder().numVirtualTokens(o.get("num_virtual_tokens").getAsInt()).inferenceMode(true);
        if (has(o, "prompt_tuning_init_text")) {
            b.promptTuningInitText(o.get("prompt_tuning_init_text").getAsString());
        }
        if (has(o, "prompt_tuning_init")) {
            String init = o.get("prompt_tuning_init").getAsString().toUpperCase(Locale.ROOT);
            try {
                b.promptTuningInit(PromptTuningConfig.Init.valueOf(init));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("prompt_tuning_init '" + init + "' is not RANDOM, TEXT or SAMPLE_VOCAB");
            }
        } else {
            b.promptTuningInit(PromptTuningConfig.Init.RANDOM);
        }
        if (has(o, "tokenizer_name_or_path")) {
            b.tokenizerNameOrPath(o.get("tokenizer_name_or_path").getAsString());
        }
        return b.build();
    }

    /** Encoder-decoder models repeat the virtual tokens per submodule; oneml's models are decoders only. */
    static void checkDecoderOnly(JsonObject o) {
        if (has(o, "num_transformer_submodules") && o.get("num_transformer_submodules").getAsInt() != 1) {
            throw new IllegalArgumentException("num_transformer_submodules " + o.get("num_transformer_submodules")
                    + " is for encoder-decoder models; oneml's decoder-only models take 1");
        }
        if (has(o, "task_type") && !o.get("task_type").getAsString().equals("CAUSAL_LM")) {
            throw new IllegalArgumentException("task_type " + o.get("task_type").getAsString() + " is not supported; oneml runs CAUSAL_LM adapters");
        }
    }


    @Override
    public String toString() {
        return "PromptTuningAdapter(" + name + ", " + config + ")";
    }
}
