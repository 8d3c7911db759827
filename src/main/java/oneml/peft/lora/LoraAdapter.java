package oneml.peft.lora;

import static oneml.peft.ConfigJson.has;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import oneml.LoRAConfig;
import oneml.model.CausalLM;
import oneml.model.Linear;
import oneml.model.ModelConfig;
import oneml.model.WrappedLinear;
import oneml.peft.Adapter;
import oneml.peft.ModulesToSave;
import oneml.peft.TargetMatcher;

/** A LoRA (or DoRA) adapter: one {@link LoraLayer} per target module, and PEFT's file keys for them. */
public final class LoraAdapter implements Adapter {
    /** Every PEFT key starts with this, then the module path (the adapter name is stripped in files). */
    public static final String KEY_PREFIX = "base_model.model.";

    private final String name;
    private final LoRAConfig config;
    private final CausalLM model;
    private final NDManager manager;
    private final Map<String, LoraLayer> layers = new LinkedHashMap<>();
    private final Map<String, NDArray> parameters = new LinkedHashMap<>();
    private ModulesToSave saved;

    private LoraAdapter(String name, LoRAConfig config, CausalLM model) {
        this.name = name;
        this.config = config;
        this.model = model;
        this.manager = model.manager().newSubManager();
    }

    /** Wraps every target module of {@code model}; A and B are initialised from {@code seed}. */
    public static LoraAdapter attach(CausalLM model, String name, LoRAConfig config, long seed) {
        List<String> targets = TargetMatcher.select(model, config.targetModules(), config.targetRegex(), config.layersToTransform());
        LoraAdapter adapter = new LoraAdapter(name, config, model);
        Random random = new Random(seed);
        for (String path : targets) {
            adapter.wrap(path, random);
        }
        if (!config.bias().equals("none")) {
            adapter.addTrainableBiases(targets);
        }
        adapter.saved = ModulesToSave.attach(model, config.modulesToSave(), adapter.manager);
        adapter.parameters.putAll(adapter.saved.parameters());
        return adapter;
    }

    private void wrap(String path, Random random) {
        Linear base = model.linear(path).base();
        int in = (int) base.inFeatures();
        int out = (int) base.outFeatures();
        int rank = TargetMatcher.patternValue(config.rankPattern(), path, config.r());
        double alpha = TargetMatcher.patternValue(config.alphaPattern(), path, config.alpha());
        double scaling = LoRAConfig.scaling(alpha, rank, config.useRslora());

        float[] aInit = new float[rank * in];
        float[] bInit = new float[out * rank];
        switch (config.initLoraWeights()) {
            case "gaussian":
                for (int i = 0; i < aInit.length; i++) {
                    aInit[i] = (float) (random.nextGaussian() / rank);
                }
                break;
            case "false":
                uniform(random, aInit, in);
                uniform(random, bInit, rank);
                break;
            default: // Kaiming-uniform with a = sqrt(5), as nn.Linear: bound 1 / sqrt(fan_in); B stays zero
                uniform(random, aInit, in);
        }
        NDArray a = manager.create(aInit, new Shape(rank, in));
        NDArray b = manager.create(bInit, new Shape(out, rank));
        a.setRequiresGradient(true);
        b.setRequiresGradient(true);
        String key = KEY_PREFIX + path;
        parameters.put(key + ".lora_A.weight", a);
        parameters.put(key + ".lora_B.weight", b);
        NDArray magnitude = null;
        if (config.useDora()) {
            try (NDManager scratch = manager.newSubManager()) {
                float scale = (float) scaling;
                NDArray w = scratch.zeros(new Shape()).add(base.weight(scratch)).add(scratch.zeros(new Shape()).add(b).matMul(a).mul(scale));
                magnitude = manager.create(w.norm(new int[] {1}).toFloatArray(), new Shape(out));
            }
            magnitude.setRequiresGradient(true);
            parameters.put(key + ".lora_magnitude_vector", magnitude);
        }
        final NDArray mag = magnitude;
        model.replaceLinear(path, inner -> {
            LoraLayer layer = new LoraLayer(path, inner, rank, scaling, (float) config.dropout(), a, b, mag);
            layers.put(path, layer);
            return layer;
        });
    }

    private static void uniform(Random random, float[] values, int fanIn) {
        double bound = 1.0 / Math.sqrt(fanIn);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
    }

    /** bias="all" trains every bias of the model, "lora_only" those of the targets; both change the base. */
    private void addTrainableBiases(List<String> targets) {
        for (var e : model.linears().entrySet()) {
            if (config.bias().equals("lora_only") && !targets.contains(e.getKey())) {
                continue;
            }
            NDArray bias = e.getValue().base().bias();
            if (bias != null) {
                bias.setRequiresGradient(true);
                parameters.put(KEY_PREFIX + e.getKey() + ".bias", bias);
            }
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LoRAConfig config() {
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

    @Override
    public void setEnabled(boolean enabled) {
        layers.values().forEach(l -> l.setEnabled(enabled));
        saved.setEnabled(enabled);
    }

    @Override
    public void setTraining(boolean training) {
        layers.values().forEach(l -> l.setTraining(training));
    }

    @Override
    public void merge() {
        layers.values().forEach(LoraLayer::merge);
    }

    @Override
    public void unmerge() {
        layers.values().forEach(LoraLayer::unmerge);
    }

    @Override
    public boolean isMerged() {
        return !layers.isEmpty() && layers.values().iterator().next().isMerged();
    }

    @Override
    public void unload(boolean mergeSavedModules) {
        if (mergeSavedModules) {
            saved.mergeIntoBase();
        }
        remove();
    }

    @Override
    public void remove() {
        saved.remove();
        for (var e : layers.entrySet()) {
            WrappedLinear.unwrap(model, e.getKey(), e.getValue());
        }
        for (var e : parameters.entrySet()) {
            if (e.getKey().endsWith(".bias")) {
                e.getValue().setRequiresGradient(false); // the base's own array: keep it, stop training it
            }
        }
        layers.clear();
        parameters.clear();
        manager.close();
    }

    @Override
    public JsonObject toAdapterConfig() {
        ModelConfig mc = model.config();
        JsonObject o = new JsonObject();
        o.add("alpha_pattern", new Gson().toJsonTree(config.alphaPattern()));
        o.add("auto_mapping", null);
        o.addProperty("bias", config.bias());
        // PEFT sets it only for GPT-2's Conv1D layers ([in, out] weights); a 4-bit GPT-2 has bitsandbytes
        // Linear4bit layers ([out, in]) instead, and PEFT leaves it false there
        o.addProperty("fan_in_fan_out", mc.family() == ModelConfig.Family.GPT2 && !model.isQuantized());
        o.addProperty("inference_mode", true);
        if (config.initLoraWeights().equals("gaussian")) {
            o.addProperty("init_lora_weights", "gaussian");
        } else {
            o.addProperty("init_lora_weights", Boolean.parseBoolean(config.initLoraWeights()));
        }
        o.add("layer_replication", null);
        o.add("layers_pattern", null);
        if (config.layersToTransform().isEmpty()) {
            o.add("layers_to_transform", null);
        } else {
            o.add("layers_to_transform", new Gson().toJsonTree(config.layersToTransform()));
        }
        o.addProperty("lora_alpha", config.alpha());
        o.addProperty("lora_bias", false);
        o.addProperty("lora_dropout", config.dropout());
        o.add("loftq_config", new JsonObject());
        o.add("megatron_config", null);
        o.addProperty("megatron_core", "megatron.core");
        if (config.modulesToSave().isEmpty()) {
            o.add("modules_to_save", null);
        } else {
            o.add("modules_to_save", new Gson().toJsonTree(config.modulesToSave()));
        }
        o.addProperty("peft_type", "LORA");
        o.addProperty("r", config.r());
        o.add("rank_pattern", new Gson().toJsonTree(config.rankPattern()));
        o.add("revision", null);
        if (config.targetRegex() != null) {
            o.addProperty("target_modules", config.targetRegex());
        } else {
            List<String> names = config.targetModules().isEmpty() ? TargetMatcher.defaultTargets(mc) : config.targetModules();
            if (names.size() == 1 && names.get(0).equals(LoRAConfig.ALL_LINEAR)) {
                o.addProperty("target_modules", LoRAConfig.ALL_LINEAR);
            } else {
                JsonArray arr = new JsonArray();
                names.forEach(arr::add);
                o.add("target_modules", arr);
            }
        }
        o.addProperty("task_type", "CAUSAL_LM");
        o.addProperty("use_dora", config.useDora());
        o.addProperty("use_rslora", config.useRslora());
        return o;
    }

    /** Reads PEFT's adapter_config.json fields for LORA (unknown fields are ignored, as PEFT does). */
    public static LoRAConfig configFromJson(JsonObject o) {
        LoRAConfig.Builder b = LoRAConfig.builder();
        if (has(o, "r")) {
            b.r(o.get("r").getAsInt());
        }
        if (has(o, "lora_alpha")) {
            b.alpha(o.get("lora_alpha").getAsDouble());
        }
        if (has(o, "lora_dropout")) {
            b.dropout(o.get("lora_dropout").getAsDouble());
        }
        if (!has(o, "target_modules")) {
            throw new IllegalArgumentException("adapter_config.json has no target_modules");
        }
        JsonElement t = o.get("target_modules");
        if (t.isJsonArray()) {
            List<String> names = new ArrayList<>();
            t.getAsJsonArray().forEach(e -> names.add(e.getAsString()));
            b.targetModules(names);
        } else if (t.getAsString().equals(LoRAConfig.ALL_LINEAR)) {
            b.targetModules(LoRAConfig.ALL_LINEAR);
        } else {
            b.targetRegex(t.getAsString());
        }
        if (has(o, "bias")) {
            b.bias(o.get("bias").getAsString());
        }
        if (has(o, "use_rslora")) {
            b.useRslora(o.get("use_rslora").getAsBoolean());
        }
        if (has(o, "use_dora")) {
            b.useDora(o.get("use_dora").getAsBoolean());
        }
        if (has(o, "init_lora_weights")) {
            JsonElement init = o.get("init_lora_weights");
            b.initLoraWeights(init.getAsJsonPrimitive().isBoolean() ? String.valueOf(init.getAsBoolean()) : init.getAsString());
        }
        if (has(o, "layers_to_transform")) {
            JsonElement l = o.get("layers_to_transform");
            List<Integer> layers = new ArrayList<>();
            if (l.isJsonArray()) {
                l.getAsJsonArray().forEach(e -> layers.add(e.getAsInt()));
            } else {
                layers.add(l.getAsInt());
            }
            b.layersToTransform(layers.toArray(new Integer[0]));
        }
        if (has(o, "rank_pattern")) {
            Map<String, Integer> m = new LinkedHashMap<>();
            o.getAsJsonObject("rank_pattern").entrySet().forEach(e -> m.put(e.getKey(), e.getValue().getAsInt()));
            b.rankPattern(m);
        }
        if (has(o, "alpha_pattern")) {
            Map<String, Double> m = new LinkedHashMap<>();
            o.getAsJsonObject("alpha_pattern").entrySet().forEach(e -> m.put(e.getKey(), e.getValue().getAsDouble()));
            b.alphaPattern(m);
        }
        if (has(o, "modules_to_save")) {
            List<String> modules = new ArrayList<>();
            o.getAsJsonArray("modules_to_save").forEach(e -> modules.add(e.getAsString()));
            b.modulesToSave(modules.toArray(new String[0]));
        }
        // fan_in_fan_out is read as either value: it says how the base stores its weight (GPT-2's Conv1D
        // [in, out], or a 4-bit Linear4bit [out, in]), not how lora_A / lora_B are stored, which is the same
        if (has(o, "lora_bias") && o.get("lora_bias").getAsBoolean()) {
            throw new IllegalArgumentException("lora_bias=true (a trained bias on lora_B) is not supported by oneml;"
                    + " retrain the adapter with lora_bias=false");
        }
        if (has(o, "layer_replication")) {
            throw new IllegalArgumentException("layer_replication " + o.get("layer_replication")
                    + " (a base with duplicated layers) is not supported by oneml; use an adapter trained without it");
        }
        return b.build();
    }


    @Override
    public String toString() {
        return "LoraAdapter(" + name + ", " + config + ", " + layers.size() + " modules)";
    }
}
