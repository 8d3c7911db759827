package oneml.peft.prefix;

import static oneml.peft.ConfigJson.has;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import oneml.PrefixTuningConfig;
import oneml.model.CausalLM;
import oneml.model.ModelConfig;
import oneml.peft.Adapter;

/**
 * A prefix-tuning adapter: learned keys and values in front of every layer's attention.
 *
 * <p>Shapes and keys, as PEFT has them (checked in huggingface/peft {@code src/peft/utils/other.py}
 * {@code _prepare_prompt_learning_config}: with num_key_value_heads in the model config, token_dim becomes
 * token_dim // num_attention_heads * num_key_value_heads and num_attention_heads becomes num_key_value_heads
 * (PEFT issue #1901); {@code src/peft/tuners/prefix_tuning/model.py}: Embedding(nvt, num_layers*2*token_dim), or
 * with prefix_projection Embedding(nvt, token_dim) then Linear, Tanh, Linear; {@code src/peft/peft_model.py}
 * {@code get_prompt_embedding_to_save}: the file's single key {@code prompt_embeddings} is the encoder's output,
 * [nvt, num_layers*2*token_dim], and a folder saved in inference mode is loaded without the projection).
 * Here token_dim = head_dim x num_key_value_heads, which is PEFT's value whenever head_dim = hidden / heads.
 */
public final class PrefixTuningAdapter implements Adapter {
    private final String name;
    private final PrefixTuningConfig config;
    private final CausalLM model;
    private final NDManager manager;
    private final PrefixEncoder encoder;
    private final KeyValuePrefix hooks;

    private PrefixTuningAdapter(String name, PrefixTuningConfig config, CausalLM model, NDManager manager, PrefixEncoder encoder) {
        this.name = name;
        this.config = config;
        this.model = model;
        this.manager = manager;
        this.encoder = encoder;
        ModelConfig mc = model.config();
        this.hooks = new KeyValuePrefix(encoder, config.numVirtualTokens(), mc.numLayers(), mc.numKvHeads(), mc.headDim());
    }

    /** token_dim: the width of one layer's keys (or values) per position, head_dim x num_key_value_heads. */
    public static int tokenDim(ModelConfig mc) {
        return mc.numKvHeads() * mc.headDim();
    }

    /** The projection MLP's hidden width: encoder_hidden_size, or token_dim when unset (PEFT's default). */
    public static int encoderHiddenSize(PrefixTuningConfig config, ModelConfig mc) {
        return config.encoderHiddenSize() > 0 ? config.encoderHiddenSize() : tokenDim(mc);
    }

    /** Creates the prefix (initialised from {@code seed} as torch would) and installs its hook. */
    public static PrefixTuningAdapter attach(CausalLM model, String name, PrefixTuningConfig config, long seed) {
        ModelConfig mc = model.config();
        int nvt = config.numVirtualTokens();
        long width = 2L * mc.numLayers() * tokenDim(mc);
        Random random = new Random(seed);
        NDManager manager = model.manager().newSubManager();
        PrefixEncoder encoder = config.projects()
                ? PrefixEncoder.projected(manager, nvt, tokenDim(mc), encoderHiddenSize(config, mc), width, random)
                : PrefixEncoder.flat(manager, nvt, width, random, config.inferenceMode());
        PrefixTuningAdapter adapter = new PrefixTuningAdapter(name, config, model, manager, encoder);
        model.addHooks(adapter.hooks);
        return adapter;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public PrefixTuningConfig config() {
        return config;
    }

    /** {@code prompt_embeddings}, or with the projection the embedding and MLP arrays (prompt_encoder.*). */
    @Override
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(encoder.parameters());
    }

    /** What PEFT saves: the flat prefix, computed by the MLP when there is one. */
    @Override
    public Map<String, NDArray> savedTensors(NDManager scratch) {
        return Map.of(PrefixEncoder.FLAT, encoder.prefix(scratch));
    }

    /** Prefix tuning adds keys and values rather than touching modules. */
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

    /** Extra key/value positions are not a change of weights: there is nothing to fold in (PEFT refuses too). */
    @Override
    public void merge() {
        throw new UnsupportedOperationException("prefix tuning cannot be merged into the base weights: its keys and values are extra"
                + " positions; keep the adapter attached (or save it) instead");
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

    /** PEFT's PrefixTuningConfig fields (PromptLearningConfig's plus the projection ones), as save_pretrained writes them. */
    @Override
    public JsonObject toAdapterConfig() {
        ModelConfig mc = model.config();
        JsonObject o = new JsonObject();
        o.add("auto_mapping", null);
        o.addProperty("encoder_hidden_size", encoderHiddenSize(config, mc));
        o.addProperty("inference_mode", true); // the file holds the flat prefix, whatever produced it
        o.addProperty("num_attention_heads", mc.numKvHeads());
        o.addProperty("num_layers", mc.numLayers());
        o.addProperty("num_transformer_submodules", 1);
        o.addProperty("num_virtual_tokens", config.numVirtualTokens());
        o.addProperty("peft_type", "PREFIX_TUNING");
        o.addProperty("prefix_projection", config.prefixProjection());
        o.add("revision", null);
        o.addProperty("task_type", "CAUSAL_LM");
        o.addProperty("token_dim", tokenDim(mc));
        return o;
    }

    /**
     * Reads PEFT's adapter_config.json fields for PREFIX_TUNING. The result is in inference mode, as PEFT's
     * from_pretrained makes it: the file holds the flat prefix, so no projection is built.
     */
    public static PrefixTuningConfig configFromJson(JsonObject o) {
        if (!has(o, "num_virtual_tokens")) {
            throw new IllegalArgumentException("adapter_config.json has no num_virtual_tokens");
        }
        if (has(o, "num_transformer_submodules") && o.get("num_transformer_submodules").getAsInt() != 1) {
            throw new IllegalArgumentException("num_transformer_submodules " + o.get("num_transformer_submodules")
                    + " is for encoder-decoder models; oneml's decoder-only models take 1");
        }
        PrefixTuningConfig.Builder b = PrefixTuningConfig.builder().numVirtualTokens(o.get("num_virtual_tokens").getAsInt()).inferenceMode(true);
        if (has(o, "prefix_projection")) {
            b.prefixProjection(o.get("prefix_projection").getAsBoolean());
        }
        if (has(o, "encoder_hidden_size")) {
            b.encoderHiddenSize(o.get("encoder_hidden_size").getAsInt());
        }
        return b.build();
    }


    @Override
    public String toString() {
        return "PrefixTuningAdapter(" + name + ", " + config + ")";
    }
}
