package oneml.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import oneml.io.AtomicFiles;
import oneml.PeftConfig;
import oneml.io.BadFileException;
import oneml.io.JsonFiles;
import oneml.io.SafeTensors;
import oneml.io.StorageType;

/**
 * Hugging Face PEFT's adapter folder: adapter_config.json and adapter_model.safetensors (float32), with
 * keys such as {@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}. Files written by
 * PEFT may carry the adapter name inside keys ({@code lora_A.default.weight}); reading strips it.
 */
public final class AdapterFiles {
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";

    private AdapterFiles() {}

    static void write(Path dir, Adapter adapter, String baseModelName) {
        JsonObject config = adapter.toAdapterConfig();
        config.addProperty("base_model_name_or_path", baseModelName);
        Map<String, Object> sorted = new TreeMap<>();
        config.entrySet().forEach(e -> sorted.put(e.getKey(), e.getValue()));
        try (NDManager scratch = oneml.model.Engines.rootManager().newSubManager()) {
            SafeTensors.write(dir.resolve(WEIGHTS), adapter.savedTensors(scratch), Map.of("format", "pt"), StorageType.F32);
        }
        AtomicFiles.writeString(dir.resolve(CONFIG), new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(sorted) + "\n");
    }

    static JsonObject readConfig(Path dir) {
        Path file = dir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) {
            throw new BadFileException(dir, "not a PEFT adapter folder: " + CONFIG + " is missing");
        }
        JsonObject json = JsonFiles.readObject(file, "adapter config", JsonFiles.SMALL_FILE_BYTES);
        try {
            AdapterConfigSchema.check(json);
        } catch (IllegalArgumentException e) {
            throw new BadFileException(file, e.getMessage() + "; fix " + CONFIG + " or save the adapter again", e);
        }
        return json;
    }

    /**
     * The method config an adapter folder's adapter_config.json describes, without touching a model: what
     * {@link PeftModel#loadAdapter} would build. A damaged or unsupported file is a {@link BadFileException}.
     */
    public static PeftConfig readPeftConfig(Path dir) {
        return configOf(dir, readConfig(dir));
    }

    static PeftConfig configOf(Path dir, JsonObject json) {
        Path file = dir.resolve(CONFIG);
        try {
            return Methods.configFromJson(json);
        } catch (IllegalArgumentException e) {
            throw new BadFileException(file, e.getMessage(), e);
        } catch (RuntimeException e) { // a cast the schema did not foresee: name the kind of problem, never the class
            throw new BadFileException(file, "a field has a value of the wrong JSON type; compare " + CONFIG
                    + " with one saved by PEFT", e);
        }
    }

    /** Copies the file's tensors into the adapter's arrays, checking that keys and shapes agree exactly. */
    static void readWeightsInto(Path dir, Adapter adapter, String adapterNameInFile) {
        Path file = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(file)) {
            throw new BadFileException(dir, "adapter folder has no " + WEIGHTS + " (adapter_model.bin is not read: save with safe_serialization)");
        }
        try (NDManager scratch = oneml.model.Engines.rootManager().newSubManager()) {
            Map<String, NDArray> raw = SafeTensors.read(file, scratch);
            Map<String, NDArray> byKey = new LinkedHashMap<>();
            for (var e : raw.entrySet()) {
                byKey.put(canonicalKey(e.getKey(), adapterNameInFile), e.getValue());
            }
            Map<String, NDArray> wanted = adapter.parameters();
            List<String> missing = new ArrayList<>();
            for (String key : wanted.keySet()) {
                if (!byKey.containsKey(key)) {
                    missing.add(key);
                }
            }
            List<String> unexpected = new ArrayList<>(byKey.keySet());
            unexpected.removeAll(wanted.keySet());
            if (!missing.isEmpty() || !unexpected.isEmpty()) {
                throw new BadFileException(file, "adapter keys do not match the base model: "
                        + (missing.isEmpty() ? "" : "missing " + head(missing) + " ")
                        + (unexpected.isEmpty() ? "" : "unexpected " + head(unexpected))
                        + " (was the adapter trained on another model or with other target_modules?)");
            }
            oneml.model.Engines.noGradInThisThread();
            for (var e : wanted.entrySet()) {
                NDArray source = byKey.get(e.getKey());
                if (!source.getShape().equals(e.getValue().getShape())) {
                    throw new BadFileException(file, "adapter weight '" + e.getKey() + "' has shape " + source.getShape()
                            + " but the model needs " + e.getValue().getShape());
                }
                oneml.tensor.Kernels.assign(e.getValue(), source.toFloatArray());
            }
        }
    }

    /** PEFT's in-memory key (with ".default" or another adapter name) to its saved form. */
    static String canonicalKey(String key, String adapterName) {
        String k = key.replace("." + adapterName + ".weight", ".weight");
        if (k.endsWith(".lora_magnitude_vector.weight")) {
            k = k.substring(0, k.length() - ".weight".length());
        }
        if (k.endsWith(".lora_magnitude_vector." + adapterName)) {
            k = k.substring(0, k.length() - adapterName.length() - 1);
        }
        return k;
    }

    private static String head(List<String> keys) {
        return keys.subList(0, Math.min(4, keys.size())) + (keys.size() > 4 ? " and " + (keys.size() - 4) + " more" : "");
    }
}
