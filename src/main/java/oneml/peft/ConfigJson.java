package oneml.peft;

import com.google.gson.JsonObject;

/** Small helpers for reading adapter_config.json, where PEFT writes absent options as null. */
public final class ConfigJson {
    private ConfigJson() {}

    /** True when the field is present and not null. */
    public static boolean has(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull();
    }
}
