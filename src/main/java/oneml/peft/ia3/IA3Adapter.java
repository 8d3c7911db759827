package oneml.peft.ia3;

import static oneml.peft.ConfigJson.has;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import oneml.IA3Config;
import oneml.LoRAConfig;
import oneml.model.CausalLM;
import oneml.model.LinearLayer;
import oneml.model.ModelConfig;
import oneml.model.WrappedLinear;
import oneml.peft.Adapter;
import oneml.peft.TargetMatcher;

/**
 * An (IA)³ adapter: one {@link IA3Layer} per target module and PEFT's file keys for their vectors.
 *
 * <p>File layout, as PEFT writes it (checked in huggingface/peft {@code src/peft/tuners/ia3/layer.py} and
 * {@code src/peft/utils/save_and_load.py}): the vector is the parameter {@code ia3_l[adapter]}, created as
 * {@code torch.ones(out_features, 1)} for attention-type targets and {@code (1, in_features)} for feed-forward
 * ones; the saved key drops the adapter name, giving {@code base_model.model.<module path>.ia3_l} with shape
 * [out, 1] or [1, in]. For GPT-2's Conv1D modules PEFT takes in/out from the [in, out] weight, so the shapes are
 * the same as here.
 */
public final class IA3Adapter implements Adapter {
    /** Every PEFT key starts with this, then the module path. */
    public static final String KEY_PREFIX = "base_model.model.";
    public static final String VECTOR = ".ia3_l";

    private final String name;
    private final IA3Config config;
    private final CausalLM model;
    private final NDManager manager;
    private final List<String> feedforward;
    private final Map<String, IA3Layer> layers = new LinkedHashMap<>();
    private final Map<String, NDArray> parameters = new LinkedHashMap<>();

    private IA3Adapter(String name, IA3Config config, CausalLM model, List<String> feedforward) {
        this.name = name;
        this.config = config;
        this.model = model;
        this.feedforward = feedforward;
        this.manager = model.manager().newSubManager();
    }

    /** PEFT's TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING for the model's type. */
    public static List<String> defaultTargets(ModelConfig config) {
        return TargetMatcher.defaultIa3Targets(config);
    }

    /** PEFT's TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING for the model's type. */
    public static List<String> defaultFeedforward(ModelConfig config) {
        return TargetMatcher.defaultIa3Feedforward(config);
    }

    /** Wraps every target module of {@code model}; vectors start at 1 (or N(0, 1) from {@code seed} without init). */
    public static IA3Adapter attach(CausalLM model, String name, IA3Config config, long seed) {
        List<String> wanted = config.targetModules().isEmpty() ? defaultTargets(model.config()) : config.targetModules();
        List<String> targets = TargetMatcher.select(model, wanted, null, List.of());
        List<String> ff = config.feedforwardModules() == null ? defaultFeedforward(model.config()) : config.feedforwardModules();
        IA3Adapter adapter = new IA3Adapter(name, config, model, ff);
        Random random = new Random(seed);
        for (String path : targets) {
            adapter.wrap(path, random);
        }
        return adapter;
    }

    /** PEFT's test: a plain suffix match of the module path against feedforward_modules (no dot boundary). */
    private boolean isFeedforward(String path) {
        return feedforward.stream().anyMatch(path::endsWith);
    }

    private void wrap(String path, Random random) {
        LinearLayer current = model.linear(path);
        boolean ff = isFeedforward(path);
        Shape shape = ff ? new Shape(1, current.inFeatures()) : new Shape(current.outFeatures(), 1);
        float[] init = new float[(int) shape.size()];
        for (int i = 0; i < init.length; i++) {
            init[i] = config.initIa3Weights() ? 1f : (float) random.nextGaussian();
        }
        NDArray vector = manager.create(init, shape);
        vector.setRequiresGradient(true);
        parameters.put(KEY_PREFIX + path + VECTOR, vector);
        model.replaceLinear(path, inner -> {
            IA3Layer layer = new IA3Layer(path, inner, vector, ff);
            layers.put(path, layer);
            return layer;
        });
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public IA3Config config() {
        return config;
    }

    @Override
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    @Override
    public List<String> targets() {
        return new ArrayList<>(layers.keySet());
    }

    /** Targets whose input is scaled. */
    public List<String> feedforwardTargets() {
        return layers.values().stream().filter(l -> l.feedforward).map(l -> l.path).toList();
    }

    @Override
    public void setEnabled(boolean enabled) {
        layers.values().forEach(l -> l.setEnabled(enabled));
    }

    @Override
    public void setTraining(boolean training) {
        // no dropout or other training-only behaviour
    }

    @Override
    public void merge() {
        layers.values().forEach(IA3Layer::merge);
    }

    @Override
    public void unmerge() {
        layers.values().forEach(IA3Layer::unmerge);
    }

    @Override
    public boolean isMerged() {
        return !layers.isEmpty() && layers.values().iterator().next().isMerged();
    }

    @Override
    public void remove() {
        for (var e : layers.entrySet()) {
            WrappedLinear.unwrap(model, e.getKey(), e.getValue());
        }
        layers.clear();
        parameters.clear();
        manager.close();
    }

    @Override
    public JsonObject toAdapterConfig() {
        ModelConfig mc = model.config();
        JsonObject o = new JsonObject();
        o.add("auto_mapping", null);
        o.add("exclude_modules", null);
        o.addProperty("fan_in_fan_out", mc.family() == ModelConfig.Family.GPT2); // PEFT sets it for Conv1D targets
        List<String> names = config.targetModules().isEmpty() ? defaultTargets(mc) : config.targetModules();
        o.add("feedforward_modules", strings(feedforwardForFile(names)));
        o.addProperty("inference_mode", true);
        o.addProperty("init_ia3_weights", config.initIa3Weights());
        o.add("modules_to_save", null);
        o.addProperty("peft_type", "IA3");
        o.add("revision", null);
        if (names.equals(List.of(LoRAConfig.ALL_LINEAR))) {
            o.addProperty("target_modules", LoRAConfig.ALL_LINEAR);
        } else {
            o.add("target_modules", strings(names));
        }
        o.addProperty("task_type", "CAUSAL_LM");
        return o;
    }

    /**
     * feedforward_modules as the target names whose modules are scaled at the input. PEFT refuses a file whose
     * feed-forward names are not a subset of its target names, which the family default would break when the
     * targets leave out down_proj; an all-linear target has no such check and keeps the list as given.
     */
    private List<String> feedforwardForFile(List<String> targetNames) {
        if (targetNames.equals(List.of(LoRAConfig.ALL_LINEAR))) {
            return feedforward;
        }
        List<String> out = new ArrayList<>();
        for (String t : targetNames) {
            if (layers.values().stream().anyMatch(l -> l.feedforward && (l.path.equals(t) || l.path.endsWith("." + t)))) {
                out.add(t);
            }
        }
        return out;
    }

    private static JsonArray strings(List<String> values) {
        JsonArray a = new JsonArray();
        values.forEach(a::add);
        return a;
    }

    /** Reads PEFT's adapter_config.json fields for IA3 (unknown fields are ignored, as PEFT does). */
    public static IA3Config configFromJson(JsonObject o) {
        IA3Config.Builder b = IA3Config.builder();
        if (has(o, "target_modules")) { // absent: the family's default, as in PEFT
            b.targetModules(names(o.get("target_modules"), "target_modules", true));
        }
        if (has(o, "feedforward_modules")) {
            b.feedforwardModules(names(o.get("feedforward_modules"), "feedforward_modules", false));
        }
        if (has(o, "init_ia3_weights")) {
            b.initIa3Weights(o.get("init_ia3_weights").getAsBoolean());
        }
        if (has(o, "modules_to_save") && o.getAsJsonArray("modules_to_save").size() > 0) {
            throw new IllegalArgumentException("IA3 adapters with modules_to_save " + o.get("modules_to_save") + " are not supported yet");
        }
        if (has(o, "exclude_modules")) {
            throw new IllegalArgumentException("IA3 adapters with exclude_modules " + o.get("exclude_modules") + " are not supported yet");
        }
        return b.build();
    }

    private static List<String> names(JsonElement e, String field, boolean allLinearAllowed) {
        if (e.isJsonArray()) {
            List<String> names = new ArrayList<>();
            e.getAsJsonArray().forEach(n -> names.add(n.getAsString()));
            return names;
        }
        String s = e.getAsString();
        if (allLinearAllowed && s.equals(LoRAConfig.ALL_LINEAR)) {
            return List.of(s);
        }
        throw new IllegalArgumentException(field + " \"" + s + "\" is a regular expression; oneml's IA3 reads lists of module names"
                + " (e.g. " + Arrays.asList("k_proj", "v_proj", "down_proj") + ")");
    }


    @Override
    public String toString() {
        return "IA3Adapter(" + name + ", " + config + ", " + layers.size() + " modules, " + feedforwardTargets().size() + " feed-forward)";
    }
}
