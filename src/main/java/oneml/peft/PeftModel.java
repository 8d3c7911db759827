package oneml.peft;

import ai.djl.ndarray.NDArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import oneml.LoRAConfig;
import oneml.PeftConfig;
import oneml.QLoRAConfig;
import oneml.model.CausalLM;
import oneml.model.TrainableModel;
import oneml.peft.adapter.Compose;
import oneml.quant.QuantConfig;

/**
 * A frozen base model with named adapters on it, one of them active: PEFT's PeftModel. Only the active
 * adapter's arrays train; the base never changes unless an adapter is merged into it.
 */
public final class PeftModel implements TrainableModel, AutoCloseable {
    public static final String DEFAULT = "default";
    private static final org.slf4j.Logger WARNINGS = org.slf4j.LoggerFactory.getLogger(PeftModel.class);

    private final CausalLM base;
    private final Map<String, Adapter> adapters = new LinkedHashMap<>();
    private String active;
    private boolean disabled;
    private String baseModelName = "oneml/base";
    private Compose composition; // adapters that run together (bottleneck adapters); null: the active one alone
    private final java.util.Set<String> frozen = new java.util.HashSet<>(); // loaded for inference (is_trainable=False)
    private final Map<String, String> notes = new LinkedHashMap<>(); // what the summary must say about an adapter

    private PeftModel(CausalLM base) {
        this.base = base;
    }

    public static PeftModel create(CausalLM base, PeftConfig config, String adapterName, long seed) {
        PeftModel model = new PeftModel(base);
        model.addAdapter(adapterName, config, seed);
        model.setAdapter(adapterName);
        return model;
    }

    /**
     * Loads an adapter folder written by oneml or by Python PEFT onto {@code base}, frozen for inference as PEFT's
     * {@code PeftModel.from_pretrained} does by default ({@code is_trainable=False}): nothing trains, dropout is
     * off. {@link #load(CausalLM, Path, QuantConfig, boolean)} loads it trainable or onto a 4-bit base.
     */
    public static PeftModel load(CausalLM base, Path dir) {
        return load(base, dir, null, false);
    }

    /**
     * Loads an adapter folder onto {@code base}.
     *
     * @param quant null to take the base as it is; otherwise the 4-bit storage the base must have (a float32 base is
     *     quantised first, as QLoRA loads its base with bitsandbytes), so a QLoRA adapter runs on the base it was
     *     trained on. A base quantised already must have exactly this storage.
     * @param isTrainable PEFT's {@code is_trainable}: true to continue training the adapter, false to load it frozen
     */
    public static PeftModel load(CausalLM base, Path dir, QuantConfig quant, boolean isTrainable) {
        if (quant != null) {
            if (!base.isQuantized()) {
                base.quantize(quant);
            } else if (!base.quantization().config().equals(quant)) {
                throw new IllegalArgumentException("the base is quantised already as " + base.quantization().config()
                        + ", not as the requested " + quant + "; load the adapter without a quantisation config, or onto a"
                        + " float32 base");
            }
        }
        PeftModel model = new PeftModel(base);
        model.loadAdapter(dir, DEFAULT, isTrainable);
        model.setAdapter(DEFAULT);
        return model;
    }

    /** Attaches another adapter (inactive until {@link #setAdapter}). */
    public PeftModel addAdapter(String name, PeftConfig config, long seed) {
        if (adapters.containsKey(name)) {
            throw new IllegalArgumentException("an adapter named '" + name + "' exists already; adapters: " + adapters.keySet());
        }
        Adapter adapter = Methods.attach(base, name, config, seed);
        adapter.setEnabled(false);
        adapters.put(name, adapter);
        return this;
    }

    public PeftModel addAdapter(String name, PeftConfig config) {
        return addAdapter(name, config, 42 + adapters.size());
    }

    /**
     * Loads a PEFT adapter folder under {@code name}, frozen (PEFT's {@code load_adapter} with
     * {@code is_trainable=False}); the weights must match the config's targets exactly.
     */
    public PeftModel loadAdapter(Path dir, String name) {
        return loadAdapter(dir, name, false);
    }

    /**
     * Loads a PEFT adapter folder under {@code name}; {@code isTrainable} false freezes it for inference, true lets
     * training continue from it. On a 4-bit base a LoRA adapter becomes a QLoRA adapter over that base.
     */
    public PeftModel loadAdapter(Path dir, String name, boolean isTrainable) {
        var json = AdapterFiles.readConfig(dir);
        PeftConfig config = AdapterFiles.configOf(dir, json);
        if (base.isQuantized() && config instanceof LoRAConfig lora) {
            config = new QLoRAConfig(lora, base.quantization().config());
        }
        addAdapter(name, config, 0);
        try {
            AdapterFiles.readWeightsInto(dir, adapters.get(name), name);
        } catch (RuntimeException e) {
            adapters.remove(name).remove();
            throw e;
        }
        if (json.has("base_model_name_or_path") && !json.get("base_model_name_or_path").isJsonNull()) {
            baseModelName = json.get("base_model_name_or_path").getAsString();
        }
        QuantConfig trainedOn = AdapterFiles.readTrainingQuantization(dir);
        if (trainedOn != null && !base.isQuantized()) {
            String note = "adapter '" + name + "' was trained on a 4-bit base (" + describe(trainedOn) + ") and now runs on a"
                    + " float32 one; outputs differ from training by the quantisation error. Load it with"
                    + " Peft.load(base, dir, QuantConfig.qlora()) (or the config it was trained with) to run it on the 4-bit base.";
            notes.put(name, note);
            WARNINGS.warn(note);
        }
        if (!isTrainable) {
            freeze(name);
        }
        return this;
    }

    private static String describe(QuantConfig q) {
        return q.type().name().toLowerCase(Locale.ROOT) + (q.doubleQuant() ? ", double quant" : "") + ", blocks of " + q.blocksize();
    }

    /** Stops {@code name} from training (PEFT's inference mode): no gradients, dropout off, not an optimiser target. */
    private void freeze(String name) {
        Adapter a = adapter(name);
        for (NDArray p : a.parameters().values()) {
            p.setRequiresGradient(false);
        }
        a.setTraining(false);
        frozen.add(name);
    }

    /** False for an adapter loaded frozen (the default of {@link #load(CausalLM, Path)}): it does not train. */
    public boolean isTrainable(String name) {
        adapter(name);
        return !frozen.contains(name);
    }

    /** Makes {@code name} the adapter that runs and trains; the others stay attached but silent. */
    public PeftModel setAdapter(String name) {
        if (!adapters.containsKey(name)) {
            throw new IllegalArgumentException("no adapter named '" + name + "'; adapters: " + adapters.keySet());
        }
        active = name;
        composition = null;
        refreshEnabled();
        return this;
    }

    /**
     * Runs several bottleneck adapters together: {@code model.compose(Compose.average("sentiment", "topic"))},
     * {@code Compose.stack(...)} or {@code Compose.parallel(...)} (see {@link Compose}). Training still updates
     * the active adapter only; {@link #setAdapter} goes back to one adapter.
     */
    public PeftModel compose(Compose composition) {
        composition.bind(this);
        this.composition = composition;
        refreshEnabled();
        return this;
    }

    /** The composition set by {@link #compose}, or null when the active adapter runs alone. */
    public Compose composition() {
        return composition;
    }

    public String activeAdapter() {
        return active;
    }

    public List<String> adapterNames() {
        return new ArrayList<>(adapters.keySet());
    }

    public Adapter adapter(String name) {
        Adapter a = adapters.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no adapter named '" + name + "'; adapters: " + adapters.keySet());
        }
        return a;
    }

    /**
     * Runs the bare base model until the returned handle is closed:
     * {@code try (var off = model.disableAdapters()) { ... }}.
     */
    public AutoCloseable disableAdapters() {
        disabled = true;
        refreshEnabled();
        return () -> {
            disabled = false;
            refreshEnabled();
        };
    }

    private void refreshEnabled() {
        adapters.forEach((n, a) -> a.setEnabled(!disabled && (composition != null ? composition.adapters().contains(n) : n.equals(active))));
    }

    public void deleteAdapter(String name) {
        Adapter a = adapter(name);
        a.remove();
        adapters.remove(name);
        frozen.remove(name);
        notes.remove(name);
        if (composition != null && composition.adapters().contains(name)) {
            composition = null; // a composition without one of its adapters is gone
            refreshEnabled();
        }
        if (name.equals(active)) {
            active = adapters.isEmpty() ? null : adapters.keySet().iterator().next();
            refreshEnabled();
        }
    }

    @Override
    public CausalLM model() {
        return base;
    }

    public NDArray forward(NDArray inputIds) {
        return base.forward(inputIds);
    }

    /** Greedy continuation with the active adapter (see {@link CausalLM#generate(String, int)}). */
    public String generate(String prompt, int maxNewTokens) {
        return base.generate(prompt, maxNewTokens);
    }

    @Override
    public Map<String, NDArray> trainableParameters() {
        if (active == null || frozen.contains(active)) {
            return Map.of();
        }
        return adapters.get(active).parameters();
    }

    @Override
    public void setTraining(boolean training) {
        adapters.forEach((n, a) -> a.setTraining(training && !frozen.contains(n)));
    }

    /** Folds the active adapter into the base weights (forward then costs what the base's does). */
    public void merge() {
        adapter(active).merge();
    }

    public void unmerge() {
        adapter(active).unmerge();
    }

    /** Merges the active adapter, removes every adapter, and returns the base model, now fine-tuned. */
    public CausalLM mergeAndUnload() {
        merge();
        Adapter kept = adapters.get(active);
        for (Adapter a : new ArrayList<>(adapters.values())) {
            a.unload(a == kept);
        }
        adapters.clear();
        frozen.clear();
        notes.clear();
        active = null;
        return base;
    }

    /** The name written as base_model_name_or_path in adapter_config.json. */
    public PeftModel baseModelName(String name) {
        this.baseModelName = name;
        return this;
    }

    /**
     * Saves every adapter as PEFT does: "default" in {@code dir}, any other in {@code dir/NAME}, each as
     * adapter_config.json + adapter_model.safetensors.
     */
    public void save(Path dir) {
        for (Adapter a : adapters.values()) {
            Path target = a.name().equals(DEFAULT) ? dir : dir.resolve(a.name());
            AdapterFiles.write(target, a, baseModelName, baseQuantization());
        }
    }

    /** Saves one adapter into exactly {@code dir}. */
    public void saveAdapter(String name, Path dir) {
        AdapterFiles.write(dir, adapter(name), baseModelName, baseQuantization());
    }

    private QuantConfig baseQuantization() {
        return base.isQuantized() ? base.quantization().config() : null;
    }

    /** Notes about the loaded adapters that the summary shows (an adapter trained on a 4-bit base now on a float32 one). */
    public List<String> notes() {
        return List.copyOf(notes.values());
    }

    public long allParameterCount() {
        long n = base.parameterCount();
        java.util.Set<NDArray> baseArrays = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        baseArrays.addAll(base.stateDict().values());
        for (Adapter a : adapters.values()) {
            for (var e : a.parameters().entrySet()) {
                if (!baseArrays.contains(e.getValue())) { // trainable biases (LoRA bias="all") are the base's own arrays
                    n += e.getValue().size();
                }
            }
        }
        return n;
    }

    /** PEFT's line: "trainable params: N || all params: M || trainable%: P". */
    public String trainableParametersSummary() {
        long trainable = trainableParameterCount();
        long all = allParameterCount();
        return String.format(Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f", trainable, all,
                100.0 * trainable / all);
    }

    public void printTrainableParameters() {
        System.out.println(trainableParametersSummary());
    }

    public Map<String, Adapter> adapters() {
        return Collections.unmodifiableMap(adapters);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("PeftModel(").append(base.config()).append(")\n");
        if (base.isQuantized()) {
            s.append("  base: ").append(base.quantization()).append('\n');
        }
        for (Adapter a : adapters.values()) {
            s.append(a.name().equals(active) ? "  * " : "    ").append(a.name()).append(": ").append(a.config())
                    .append(a.isMerged() ? " [merged]" : "").append(frozen.contains(a.name()) ? " [frozen]" : "")
                    .append(", ").append(a.targets().size()).append(" modules\n");
        }
        notes.values().forEach(n -> s.append("  note: ").append(n).append('\n'));
        if (composition != null) {
            s.append("  composition: ").append(composition).append('\n');
        }
        if (disabled) {
            s.append("  (adapters disabled)\n");
        }
        return s.append("  ").append(trainableParametersSummary()).toString();
    }

    @Override
    public void close() {
        base.close();
    }

    static boolean isAdapterFolder(Path dir) {
        return Files.isRegularFile(dir.resolve(AdapterFiles.CONFIG));
    }
}
