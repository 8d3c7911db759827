package oneml.peft.adapter;

import static oneml.peft.ConfigJson.has;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import oneml.AdapterConfig;
import oneml.model.CausalLM;
import oneml.model.ModelConfig;
import oneml.peft.Adapter;
import oneml.peft.PeftModel;

/**
 * A bottleneck adapter (Houlsby / Pfeiffer, as AdapterHub's {@code adapters} 1.2): one small MLP per
 * chosen tap of every block, plugged in through the model's {@link oneml.model.ForwardHooks}.
 *
 * <p><b>Placement.</b> The hooks hand over a sub-layer's output {@code s} (o_proj / c_proj after attention,
 * down_proj / c_proj of the MLP) before the block adds it to the residual stream {@code h}. The adapter
 * returns {@code s + W_up f(W_down s + b_down) + b_up}, so the block computes
 * {@code h + s + A(s)}: the adapter reads the sub-layer output and adds its own residual, which is where
 * Houlsby et al. (2019) place it. AdapterHub's Llama and GPT-2 code passes the adapter {@code h + s}
 * instead (its {@code original_ln_before} with no layer norm), giving {@code h + s + A(h + s)}; the hooks
 * do not see {@code h}, so that variant is not reproduced. Both are the identity when W_up = 0.
 *
 * <p><b>File format</b> (Hugging Face PEFT's folder layout; PEFT itself has no bottleneck adapters):
 * adapter_config.json holds {@code "peft_type": "BOTTLENECK"}, {@code "task_type": "CAUSAL_LM"} and the
 * config as AdapterHub names it ({@code reduction_factor}, {@code non_linearity}, {@code mh_adapter},
 * {@code output_adapter}, {@code init_weights}, {@code dropout}) plus {@code "adapter_input":
 * "sublayer_output"} for the placement above. adapter_model.safetensors (float32) holds per block and tap
 * <pre>
 *   base_model.model.model.layers.0.attention_adapters.adapter_down.weight   [m, hidden]   (Houlsby only)
 *   base_model.model.model.layers.0.attention_adapters.adapter_down.bias     [m]
 *   base_model.model.model.layers.0.attention_adapters.adapter_up.weight     [hidden, m]
 *   base_model.model.model.layers.0.attention_adapters.adapter_up.bias       [hidden]
 *   base_model.model.model.layers.0.output_adapters.adapter_down.weight      ... (after the MLP)
 * </pre>
 * ({@code transformer.h.0...} for GPT-2). These are AdapterHub's module names
 * ({@code model.layers.0.output_adapters.adapters.NAME.adapter_down.0.weight}) with PEFT's prefix, the
 * adapter name stripped as PEFT strips it, and without the {@code .0} index of AdapterHub's
 * {@code nn.Sequential}.
 *
 * <p>Bottleneck adapters cannot be merged into the base weights (the non-linearity sits between the two
 * projections), so {@link #merge()} throws.
 */
public final class BottleneckAdapter implements Adapter {
    /** Every key starts with PEFT's prefix, then the block's module path. */
    public static final String KEY_PREFIX = "base_model.model.";
    /** The value of adapter_config.json's "adapter_input" that this placement writes and reads. */
    static final String ADAPTER_INPUT = "sublayer_output";

    private final String name;
    private final AdapterConfig config;
    private final CausalLM model;
    private final NDManager manager;
    private final int bottleneck;
    private final BottleneckLayer[] attention;
    private final BottleneckLayer[] mlp;
    private final Map<String, NDArray> parameters = new LinkedHashMap<>();
    private final List<String> targets = new ArrayList<>();
    private final AdapterHooks hooks;
    private volatile boolean enabled = true;
    private volatile boolean training;
    private volatile PeftModel owner;

    private BottleneckAdapter(String name, AdapterConfig config, CausalLM model) {
        this.name = name;
        this.config = config;
        this.model = model;
        this.bottleneck = config.bottleneckSize(model.config().hiddenSize());
        this.manager = model.manager().newSubManager();
        int layers = model.config().numLayers();
        this.attention = config.afterAttention() ? new BottleneckLayer[layers] : null;
        this.mlp = config.afterMlp() ? new BottleneckLayer[layers] : null;
        this.hooks = new AdapterHooks(this, layers);
    }

    /** Builds the adapter's layers (initialised from {@code seed}) and installs its hooks on {@code model}. */
    public static BottleneckAdapter attach(CausalLM model, String name, AdapterConfig config, long seed) {
        BottleneckAdapter adapter = new BottleneckAdapter(name, config, model);
        Random random = new Random(seed);
        for (int i = 0; i < model.config().numLayers(); i++) {
            if (adapter.attention != null) {
                adapter.attention[i] = adapter.newLayer(i, Tap.ATTENTION, random);
            }
            if (adapter.mlp != null) {
                adapter.mlp[i] = adapter.newLayer(i, Tap.MLP, random);
            }
        }
        model.addHooks(adapter.hooks);
        return adapter;
    }

    private BottleneckLayer newLayer(int layer, Tap tap, Random random) {
        int hidden = model.config().hiddenSize();
        int m = bottleneck;
        float[] down = new float[m * hidden];
        float[] up = new float[hidden * m];
        switch (config.initWeights()) {
            case "bert": // AdapterHub's default: both N(0, 0.02), biases zero
                gaussian(random, down, 0.02, Double.POSITIVE_INFINITY);
                gaussian(random, up, 0.02, Double.POSITIVE_INFINITY);
                break;
            case "houlsby": // truncated N(0, 0.01) within ±0.02, biases zero
                gaussian(random, down, 0.01, 0.02);
                gaussian(random, up, 0.01, 0.02);
                break;
            default: // mam_adapter: W_down Kaiming-uniform (a = sqrt(5), bound 1/sqrt(fan_in)); W_up and biases zero
                double bound = 1.0 / Math.sqrt(hidden);
                for (int i = 0; i < down.length; i++) {
                    down[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
                }
        }
        String key = KEY_PREFIX + modulePath(layer, tap) + ".";
        BottleneckLayer l = new BottleneckLayer(
                trainable(key + "adapter_down.weight", down, new Shape(m, hidden)),
                trainable(key + "adapter_down.bias", new float[m], new Shape(m)),
                trainable(key + "adapter_up.weight", up, new Shape(hidden, m)),
                trainable(key + "adapter_up.bias", new float[hidden], new Shape(hidden)),
                config.nonLinearity());
        targets.add(modulePath(layer, tap));
        return l;
    }

    private NDArray trainable(String key, float[] values, Shape shape) {
        NDArray a = manager.create(values, shape);
        a.setRequiresGradient(true);
        parameters.put(key, a);
        return a;
    }

    private static void gaussian(Random random, float[] values, double std, double limit) {
        for (int i = 0; i < values.length; i++) {
            double v;
            do {
                v = random.nextGaussian() * std;
            } while (Math.abs(v) > limit);
            values[i] = (float) v;
        }
    }

    /** The module path of a tap, e.g. "model.layers.0.output_adapters" (Llama) or "transformer.h.0.attention_adapters". */
    String modulePath(int layer, Tap tap) {
        String block = model.config().family() == ModelConfig.Family.GPT2 ? "transformer.h." : "model.layers.";
        return block + layer + "." + tap.moduleName;
    }

    // ---- forward --------------------------------------------------------------------------------------

    /** This adapter's layer at a tap, or null where the config puts none. */
    BottleneckLayer layer(Tap tap, int layer) {
        BottleneckLayer[] layers = tap == Tap.ATTENTION ? attention : mlp;
        return layers == null ? null : layers[layer];
    }

    /** {@code s + A(s)} at a tap (s unchanged where this adapter has no layer). */
    NDArray apply(Tap tap, int layer, NDArray s) {
        NDArray d = delta(tap, layer, s);
        return d == null ? s : s.add(d);
    }

    /** {@code A(s)} at a tap, or null where this adapter has no layer. */
    NDArray delta(Tap tap, int layer, NDArray s) {
        BottleneckLayer l = layer(tap, layer);
        return l == null ? null : l.delta(s, training, (float) config.dropout());
    }

    boolean enabled() {
        return enabled;
    }

    boolean training() {
        return training;
    }

    CausalLM model() {
        return model;
    }

    void bindTo(PeftModel peft) {
        this.owner = peft;
    }

    /**
     * The composition this adapter takes part in right now: its PeftModel's composition when it names this
     * adapter and every member is enabled (so disableAdapters() silences it), else null.
     */
    Compose liveComposition() {
        PeftModel o = owner;
        Compose c = o == null ? null : o.composition();
        if (c == null || !c.adapters().contains(name)) {
            return null;
        }
        for (BottleneckAdapter member : members(c)) {
            if (!member.enabled) {
                return null;
            }
        }
        return c;
    }

    /** The adapters a composition names, in its order. */
    List<BottleneckAdapter> members(Compose c) {
        List<BottleneckAdapter> out = new ArrayList<>();
        for (String n : c.adapters()) {
            out.add((BottleneckAdapter) owner.adapter(n)); // Compose.bind checked the types
        }
        return out;
    }

    // ---- Adapter --------------------------------------------------------------------------------------

    @Override
    public String name() {
        return name;
    }

    @Override
    public AdapterConfig config() {
        return config;
    }

    /** The bottleneck width m = hidden / reductionFactor. */
    public int bottleneckSize() {
        return bottleneck;
    }

    @Override
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    @Override
    public List<String> targets() {
        return Collections.unmodifiableList(targets);
    }

    @Override
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    @Override
    public void setTraining(boolean training) {
        this.training = training;
    }

    /** Always fails: see the class comment. */
    @Override
    public void merge() {
        throw new UnsupportedOperationException("bottleneck adapter '" + name + "' cannot be merged into the base weights: "
                + "h + W_up f(W_down h) puts the non-linearity " + config.nonLinearity() + " between its two projections, so no "
                + "weight matrix of the model can absorb it. Keep the adapter attached (forward, generate and save work as they "
                + "are), or train LoRA or IA3 if you need a merged model.");
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
        owner = null;
        parameters.clear();
        targets.clear();
        manager.close();
    }

    @Override
    public JsonObject toAdapterConfig() {
        JsonObject o = new JsonObject();
        o.addProperty("adapter_input", ADAPTER_INPUT);
        o.addProperty("dropout", config.dropout());
        o.addProperty("inference_mode", true);
        o.addProperty("init_weights", config.initWeights());
        o.addProperty("mh_adapter", config.afterAttention());
        o.addProperty("non_linearity", config.nonLinearity());
        o.addProperty("output_adapter", config.afterMlp());
        o.addProperty("peft_type", "BOTTLENECK");
        o.addProperty("reduction_factor", config.reductionFactor());
        o.add("revision", null);
        o.addProperty("task_type", "CAUSAL_LM");
        return o;
    }

    /** Reads adapter_config.json's BOTTLENECK fields; missing fields take the Pfeiffer preset's values. */
    public static AdapterConfig configFromJson(JsonObject o) {
        AdapterConfig.Builder b = AdapterConfig.builder();
        if (has(o, "adapter_input") && !o.get("adapter_input").getAsString().equals(ADAPTER_INPUT)) {
            throw new IllegalArgumentException("adapter_input '" + o.get("adapter_input").getAsString() + "' is not supported: oneml's "
                    + "bottleneck adapters read the sub-layer output ('" + ADAPTER_INPUT + "')");
        }
        if (has(o, "reduction_factor")) {
            JsonElement rf = o.get("reduction_factor");
            if (!rf.isJsonPrimitive() || !rf.getAsJsonPrimitive().isNumber() || rf.getAsDouble() != Math.rint(rf.getAsDouble())) {
                throw new IllegalArgumentException("reduction_factor " + rf + " is not a whole number (per-layer mappings and fractions are not supported)");
            }
            b.reductionFactor((int) rf.getAsDouble());
        }
        if (has(o, "non_linearity")) {
            b.nonLinearity(o.get("non_linearity").getAsString());
        }
        if (has(o, "mh_adapter")) {
            b.afterAttention(o.get("mh_adapter").getAsBoolean());
        }
        if (has(o, "output_adapter")) {
            b.afterMlp(o.get("output_adapter").getAsBoolean());
        }
        if (has(o, "init_weights")) {
            b.initWeights(o.get("init_weights").getAsString());
        }
        if (has(o, "dropout")) {
            b.dropout(o.get("dropout").getAsDouble());
        }
        return b.build();
    }


    @Override
    public String toString() {
        return "BottleneckAdapter(" + name + ", " + config + ", bottleneck " + bottleneck + ", " + targets.size() + " taps)";
    }
}
