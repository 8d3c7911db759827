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
        if (config instanceof oneml.AdapterConfig adapter) {
            return oneml.peft.adapter.BottleneckAdapter.attach(model, name, adapter, seed);
        }
        if (config instanceof oneml.IA3Config ia3) {
            return oneml.peft.ia3.IA3Adapter.attach(model, name, ia3, seed);
        }
        if (config instanceof oneml.PromptTuningConfig prompt) {
            return oneml.peft.prompt.PromptTuningAdapter.attach(model, name, prompt, seed);
        }
        if (config instanceof oneml.PrefixTuningConfig prefix) {
            return oneml.peft.prefix.PrefixTuningAdapter.attach(model, name, prefix, seed);
        }
        throw new IllegalArgumentException("no PEFT method implements " + config.getClass().getSimpleName());
    }

    static PeftConfig configFromJson(JsonObject adapterConfig) {
        String type = adapterConfig.has("peft_type") && !adapterConfig.get("peft_type").isJsonNull()
                ? adapterConfig.get("peft_type").getAsString() : "";
        switch (type) {
            case "LORA":
                return LoraAdapter.configFromJson(adapterConfig);
            case "BOTTLENECK":
                return oneml.peft.adapter.BottleneckAdapter.configFromJson(adapterConfig);
            case "IA3":
                return oneml.peft.ia3.IA3Adapter.configFromJson(adapterConfig);
            case "PROMPT_TUNING":
                return oneml.peft.prompt.PromptTuningAdapter.configFromJson(adapterConfig);
            case "PREFIX_TUNING":
                return oneml.peft.prefix.PrefixTuningAdapter.configFromJson(adapterConfig);
            default:
                throw new IllegalArgumentException("adapter_config.json has peft_type '" + type + "'; oneml reads LORA adapters (DoRA is LORA with use_dora)");
        }
    }
}
