package oneml.peft;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import oneml.io.JsonFields;

/**
 * The JSON type (and sane range) of every adapter_config.json field the method readers use, checked before they
 * run: a wrong type then says which field and what was found, the readers' plain casts never see one, and sizes
 * that would allocate gigabytes (r = 2^31) are refused while the file is still only text. Fields not listed here are
 * ignored, as PEFT ignores unknown fields; a new field a reader uses is one more line.
 */
final class AdapterConfigSchema {
    /** Ranks, virtual tokens and widths above this are corruption, not a model (PEFT's largest recipes use hundreds). */
    static final int MAX_SIZE = 1 << 16;

    private enum Kind { SIZE, COUNT, NUMBER, BOOLEAN, STRING, STRINGS, STRING_OR_STRINGS, BOOLEAN_OR_STRING, LAYERS, RANKS, NUMBERS }

    private static final Map<String, Kind> FIELDS = new LinkedHashMap<>();

    static {
        FIELDS.put("peft_type", Kind.STRING);
        FIELDS.put("task_type", Kind.STRING);
        FIELDS.put("base_model_name_or_path", Kind.STRING);
        FIELDS.put("revision", Kind.STRING);
        FIELDS.put("r", Kind.SIZE);
        FIELDS.put("lora_alpha", Kind.NUMBER);
        FIELDS.put("lora_dropout", Kind.NUMBER);
        FIELDS.put("target_modules", Kind.STRING_OR_STRINGS);
        FIELDS.put("bias", Kind.STRING);
        FIELDS.put("use_rslora", Kind.BOOLEAN);
        FIELDS.put("use_dora", Kind.BOOLEAN);
        FIELDS.put("fan_in_fan_out", Kind.BOOLEAN);
        FIELDS.put("lora_bias", Kind.BOOLEAN);
        FIELDS.put("inference_mode", Kind.BOOLEAN);
        FIELDS.put("init_lora_weights", Kind.BOOLEAN_OR_STRING);
        FIELDS.put("layers_to_transform", Kind.LAYERS);
        FIELDS.put("rank_pattern", Kind.RANKS);
        FIELDS.put("alpha_pattern", Kind.NUMBERS);
        FIELDS.put("modules_to_save", Kind.STRINGS);
        FIELDS.put("feedforward_modules", Kind.STRING_OR_STRINGS);
        FIELDS.put("exclude_modules", Kind.STRING_OR_STRINGS);
        FIELDS.put("init_ia3_weights", Kind.BOOLEAN);
        FIELDS.put("num_virtual_tokens", Kind.SIZE);
        FIELDS.put("num_transformer_submodules", Kind.SIZE);
        FIELDS.put("token_dim", Kind.SIZE);
        FIELDS.put("num_attention_heads", Kind.SIZE);
        FIELDS.put("num_layers", Kind.SIZE);
        FIELDS.put("encoder_hidden_size", Kind.SIZE);
        FIELDS.put("prefix_projection", Kind.BOOLEAN);
        FIELDS.put("prompt_tuning_init", Kind.STRING);
        FIELDS.put("prompt_tuning_init_text", Kind.STRING);
        FIELDS.put("tokenizer_name_or_path", Kind.STRING);
        FIELDS.put("adapter_input", Kind.STRING);
        FIELDS.put("reduction_factor", Kind.NUMBER);
        FIELDS.put("non_linearity", Kind.STRING);
        FIELDS.put("mh_adapter", Kind.BOOLEAN);
        FIELDS.put("output_adapter", Kind.BOOLEAN);
        FIELDS.put("init_weights", Kind.STRING);
        FIELDS.put("dropout", Kind.NUMBER);
    }

    private AdapterConfigSchema() {}

    /** @throws IllegalArgumentException naming the first field whose value has the wrong type or an impossible size */
    static void check(JsonObject o) {
        for (var f : FIELDS.entrySet()) {
            if (JsonFields.has(o, f.getKey())) {
                check(f.getKey(), o.get(f.getKey()), f.getValue());
            }
        }
    }

    private static void check(String key, JsonElement e, Kind kind) {
        String what = "field '" + key + "'";
        switch (kind) {
            case SIZE -> size(e, what);
            case COUNT -> count(e, what);
            case NUMBER -> JsonFields.doubleValue(e, what);
            case BOOLEAN -> JsonFields.bool(wrap(key, e), key, false);
            case STRING -> JsonFields.stringValue(e, what);
            case STRINGS -> {
                if (!e.isJsonArray()) {
                    throw new IllegalArgumentException(what + " must be a list of module names, got " + JsonFields.show(e));
                }
                JsonFields.strings(wrap(key, e), key);
            }
            case STRING_OR_STRINGS -> JsonFields.strings(wrap(key, e), key);
            case BOOLEAN_OR_STRING -> {
                if (!e.isJsonPrimitive() || e.getAsJsonPrimitive().isNumber()) {
                    throw new IllegalArgumentException(what + " must be true, false or a name such as \"gaussian\", got " + JsonFields.show(e));
                }
            }
            case LAYERS -> {
                if (e.isJsonArray()) {
                    e.getAsJsonArray().forEach(l -> count(l, "each entry of '" + key + "'"));
                } else {
                    count(e, what);
                }
            }
            case RANKS, NUMBERS -> {
                if (!e.isJsonObject()) {
                    throw new IllegalArgumentException(what + " must be an object of module pattern -> value, got " + JsonFields.show(e));
                }
                for (var p : e.getAsJsonObject().entrySet()) {
                    String entry = "'" + key + "' entry '" + p.getKey() + "'";
                    if (kind == Kind.RANKS) {
                        size(p.getValue(), entry);
                    } else {
                        JsonFields.doubleValue(p.getValue(), entry);
                    }
                }
            }
        }
    }

    private static void size(JsonElement e, String what) {
        int v = JsonFields.intValue(e, what);
        if (v <= 0 || v > MAX_SIZE) {
            throw new IllegalArgumentException(what + " must be between 1 and " + MAX_SIZE + ", got " + JsonFields.show(e));
        }
    }

    private static void count(JsonElement e, String what) {
        if (JsonFields.intValue(e, what) < 0) {
            throw new IllegalArgumentException(what + " must be 0 or more, got " + JsonFields.show(e));
        }
    }

    private static JsonObject wrap(String key, JsonElement e) {
        JsonObject o = new JsonObject();
        o.add(key, e);
        return o;
    }
}
