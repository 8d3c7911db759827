package oneml.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import oneml.io.AtomicFiles;
import oneml.PeftConfig;
import oneml.io.BadFileException;
import oneml.io.JsonFiles;
import oneml.io.SafeTensors;
import oneml.io.StorageType;
import oneml.quant.QuantConfig;
import oneml.quant.QuantType;

/**
 * Hugging Face PEFT's adapter folder: adapter_config.json and adapter_model.safetensors (float32), with
 * keys such as {@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}. Files written by
 * PEFT may carry the adapter name inside keys ({@code lora_A.default.weight}); reading strips it.
 */
public final class AdapterFiles {
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";

    private AdapterFiles() {}

    /** The model card PEFT writes beside the adapter; it is where PEFT records the base's 4-bit storage. */
    public static final String CARD = "README.md";
    /** The line before PEFT's list of the bitsandbytes config a QLoRA adapter was trained with. */
    static final String QUANTIZATION_PREFIX = "The following `bitsandbytes` quantization config was used during training:";

    /** Writes the adapter; {@code baseQuantization} (null for a float32 base) goes into the model card as PEFT does. */
    static void write(Path dir, Adapter adapter, String baseModelName, QuantConfig baseQuantization) {
        JsonObject config = adapter.toAdapterConfig();
        config.addProperty("base_model_name_or_path", baseModelName);
        Map<String, Object> sorted = new TreeMap<>();
        config.entrySet().forEach(e -> sorted.put(e.getKey(), e.getValue()));
        try (NDManager scratch = oneml.model.Engines.rootManager().newSubManager()) {
            SafeTensors.write(dir.resolve(WEIGHTS), adapter.savedTensors(scratch), Map.of("format", "pt"), StorageType.F32);
        }
        AtomicFiles.writeString(dir.resolve(CONFIG), new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(sorted) + "\n");
        if (baseQuantization != null) {
            writeCard(dir.resolve(CARD), baseModelName, baseQuantization);
        }
    }

    /**
     * PEFT's model card section for a QLoRA adapter (peft_model.py {@code create_or_update_model_card}): the base's
     * BitsAndBytesConfig as "- name: value" lines in Python's spelling. An existing card keeps its text and gets the
     * section appended unless it has one already.
     */
    private static void writeCard(Path card, String baseModelName, QuantConfig q) {
        StringBuilder section = new StringBuilder("## Training procedure\n\n\n").append(QUANTIZATION_PREFIX).append('\n');
        section.append("- quant_method: bitsandbytes\n- _load_in_8bit: False\n- _load_in_4bit: True\n- llm_int8_threshold: 6.0\n")
                .append("- llm_int8_skip_modules: None\n- llm_int8_enable_fp32_cpu_offload: False\n- llm_int8_has_fp16_weight: False\n")
                .append("- bnb_4bit_quant_type: ").append(q.type().name().toLowerCase(Locale.ROOT)).append('\n')
                .append("- bnb_4bit_use_double_quant: ").append(q.doubleQuant() ? "True" : "False").append('\n')
                .append("- bnb_4bit_compute_dtype: float32\n- bnb_4bit_quant_storage: uint8\n- load_in_4bit: True\n- load_in_8bit: False\n");
        if (q.blocksize() != QuantConfig.DEFAULT_BLOCKSIZE) { // bitsandbytes' config has no field for it: oneml's own line
            section.append("- bnb_4bit_blocksize: ").append(q.blocksize()).append('\n');
        }
        String text;
        try {
            text = Files.isRegularFile(card) ? Files.readString(card) : null;
        } catch (IOException e) {
            throw new BadFileException(card, "cannot read the model card (" + e.getMessage() + ")", e);
        }
        if (text == null) {
            text = "---\nbase_model: " + baseModelName + "\nlibrary_name: peft\n---\n\n" + section + "\n### Framework versions\n\n- oneml\n";
        } else if (!text.contains(QUANTIZATION_PREFIX)) {
            text = text + (text.endsWith("\n") ? "" : "\n") + section;
        } else {
            return;
        }
        AtomicFiles.writeString(card, text);
    }

    /**
     * The 4-bit storage the adapter's base had in training, as the model card records it (PEFT's bitsandbytes
     * section with {@code load_in_4bit}), or null when the card says nothing of it (or there is no card).
     */
    static QuantConfig readTrainingQuantization(Path dir) {
        Path card = dir.resolve(CARD);
        if (!Files.isRegularFile(card)) {
            return null;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(card);
        } catch (IOException e) {
            throw new BadFileException(card, "cannot read the model card (" + e.getMessage() + ")", e);
        }
        int start = lines.indexOf(QUANTIZATION_PREFIX);
        if (start < 0) {
            return null;
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (int i = start + 1; i < lines.size() && lines.get(i).startsWith("- "); i++) {
            String line = lines.get(i).substring(2);
            int colon = line.indexOf(": ");
            if (colon > 0) {
                fields.put(line.substring(0, colon).trim(), line.substring(colon + 2).trim());
            }
        }
        if (!"True".equals(fields.getOrDefault("load_in_4bit", fields.get("_load_in_4bit")))) {
            return null; // 8-bit bases are not oneml's
        }
        QuantType type;
        try {
            type = QuantType.valueOf(fields.getOrDefault("bnb_4bit_quant_type", "fp4").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadFileException(card, "records bnb_4bit_quant_type '" + fields.get("bnb_4bit_quant_type")
                    + "'; oneml knows nf4 and fp4");
        }
        int blocksize = QuantConfig.DEFAULT_BLOCKSIZE;
        if (fields.containsKey("bnb_4bit_blocksize")) {
            try {
                blocksize = Integer.parseInt(fields.get("bnb_4bit_blocksize"));
            } catch (NumberFormatException e) {
                throw new BadFileException(card, "records bnb_4bit_blocksize '" + fields.get("bnb_4bit_blocksize") + "', not a number");
            }
        }
        return new QuantConfig(type, blocksize, "True".equals(fields.get("bnb_4bit_use_double_quant")),
                QuantConfig.DEFAULT_DOUBLE_QUANT_BLOCKSIZE);
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
