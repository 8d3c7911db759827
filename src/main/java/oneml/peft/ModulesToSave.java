package oneml.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import oneml.model.CausalLM;
import oneml.model.LinearLayer;
import oneml.model.WrappedLinear;
import oneml.peft.lora.LoraAdapter;

/**
 * PEFT's modules_to_save: whole modules (typically the head, or embeddings after adding tokens) trained
 * as full copies beside an adapter and saved with it under {@code base_model.model.<module>.weight}.
 * Linear modules get a wrapper that computes with the copy; other weights are read through the model's
 * overrides. The base keeps its original values until {@link #mergeIntoBase()}.
 */
public final class ModulesToSave {
    private final CausalLM model;
    private final Map<String, NDArray> parameters = new LinkedHashMap<>();
    private final Map<String, NDArray> overrides = new LinkedHashMap<>();
    private final Map<String, CopyLinear> linears = new LinkedHashMap<>();

    private ModulesToSave(CausalLM model) {
        this.model = model;
    }

    /** Copies every module whose path ends with one of {@code names}; nothing found is an error that lists the modules. */
    public static ModulesToSave attach(CausalLM model, List<String> names, NDManager manager) {
        ModulesToSave saved = new ModulesToSave(model);
        for (String name : names) {
            List<String> paths = new ArrayList<>();
            for (String path : model.moduleNames()) {
                if (path.equals(name) || path.endsWith("." + name)) {
                    paths.add(path);
                }
            }
            if (paths.isEmpty()) {
                throw new IllegalArgumentException("modules_to_save '" + name + "' matches no module; modules are "
                        + TargetMatcher.shortNames(model.moduleNames()));
            }
            for (String path : paths) {
                if (model.linears().containsKey(path)) {
                    saved.copyLinear(path, manager);
                } else {
                    for (String weight : model.weightNames(path)) {
                        NDArray copy = trainableCopy(model.baseParam(weight), manager);
                        saved.overrides.put(weight, copy);
                        saved.parameters.put(LoraAdapter.KEY_PREFIX + weight, copy);
                    }
                }
            }
        }
        return saved;
    }

    private void copyLinear(String path, NDManager manager) {
        LinearLayer current = model.linear(path);
        NDArray w;
        try (NDManager scratch = manager.newSubManager()) {
            w = trainableCopy(current.base().weight(scratch), manager);
        }
        NDArray b = current.base().bias() == null ? null : trainableCopy(current.base().bias(), manager);
        parameters.put(LoraAdapter.KEY_PREFIX + path + ".weight", w);
        if (b != null) {
            parameters.put(LoraAdapter.KEY_PREFIX + path + ".bias", b);
        }
        model.replaceLinear(path, inner -> {
            CopyLinear layer = new CopyLinear(inner, w, b);
            linears.put(path, layer);
            return layer;
        });
    }

    private static NDArray trainableCopy(NDArray source, NDManager manager) {
        NDArray copy = manager.create(source.toFloatArray(), source.getShape());
        copy.setRequiresGradient(true);
        return copy;
    }

    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    public boolean isEmpty() {
        return parameters.isEmpty();
    }

    public void setEnabled(boolean enabled) {
        overrides.forEach((name, value) -> {
            if (enabled) {
                model.setOverride(name, value);
            } else {
                model.clearOverride(name, value);
            }
        });
        linears.values().forEach(l -> l.enabled = enabled);
    }

    /** Writes the trained copies into the base weights (merge_and_unload); a tied head cannot be written apart from the embeddings. */
    public void mergeIntoBase() {
        for (var e : overrides.entrySet()) {
            if (!model.stateDict().containsKey(e.getKey())) {
                throw new IllegalStateException("cannot unload a trained copy of " + e.getKey() + " into a model whose head is tied to its"
                        + " embeddings; keep the adapter loaded instead of merging");
            }
            oneml.tensor.Kernels.assign(model.stateDict().get(e.getKey()), e.getValue().toFloatArray());
        }
        for (var e : linears.entrySet()) {
            e.getValue().base().setWeight(e.getValue().weight);
            if (e.getValue().bias != null) {
                oneml.tensor.Kernels.assign(e.getValue().base().bias(), e.getValue().bias.toFloatArray());
            }
        }
    }

    public void remove() {
        setEnabled(false);
        for (var e : linears.entrySet()) {
            WrappedLinear.unwrap(model, e.getKey(), e.getValue());
        }
        linears.clear();
        overrides.clear();
        parameters.clear();
    }

    /** A linear module computed with the adapter's own full copy of its weight while enabled. */
    static final class CopyLinear extends WrappedLinear {
        final NDArray weight;
        final NDArray bias;
        boolean enabled = true;

        CopyLinear(LinearLayer inner, NDArray weight, NDArray bias) {
            super(inner);
            this.weight = weight;
            this.bias = bias;
        }

        @Override
        public NDArray forward(NDArray x) {
            if (!enabled) {
                return innerForward(x);
            }
            return ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
        }
    }
}
