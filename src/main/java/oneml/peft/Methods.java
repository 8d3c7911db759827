package oneml.peft;

import com.google.gson.JsonObject;
import oneml.LoRAConfig;
import oneml.PeftConfig;
import oneml.model.CausalLM;
import oneml.peft.lora.LoraAdapter;

/** The registry of PEFT methods: a new method adds one line to each of these two switches. */
final class Methods {
    private Methods() {}

    static Adapter attach(CausalLM model, String name, PeftConfig config, long seed) {
        if (config instanceof oneml.QLoRAConfig qlora) {
            return oneml.peft.qlora.QLoraAdapter.attach(model, name, qlora, seed);
        }
        if (config instanceof LoRAConfig lora) {
            return LoraAdapter.attach(model, name, lora, seed);
        }
        throw new IllegalArgumentException("no PEFT method implements " + config.getClass().getSimpleName());
    }

    static PeftConfig configFromJson(JsonObject adapterConfig) {
        String type = adapterConfig.has("peft_type") && !adapterConfig.get("peft_type").isJsonNull()
                ? adapterConfig.get("peft_type").getAsString() : "";
        switch (type) {
            case "LORA":
                return LoraAdapter.configFromJson(adapterConfig);
            default:
                throw new IllegalArgumentException("adapter_config.json has peft_type '" + type + "'; oneml reads LORA adapters (DoRA is LORA with use_dora)");
        }
    }
}
