package oneml;

import java.nio.file.Path;
import oneml.model.CausalLM;
import oneml.peft.PeftModel;

/** Turns a base model into a PEFT model: {@code var model = Peft.apply(base, lora);}. */
public final class Peft {
    private Peft() {}

    /** Attaches a "default" adapter made from {@code config}, initialised with seed 42. */
    public static PeftModel apply(CausalLM base, PeftConfig config) {
        return apply(base, config, 42);
    }

    public static PeftModel apply(CausalLM base, PeftConfig config, long seed) {
        return PeftModel.create(base, config, PeftModel.DEFAULT, seed);
    }

    /** Loads a Hugging Face PEFT adapter folder (adapter_config.json + adapter_model.safetensors) onto {@code base}. */
    public static PeftModel load(CausalLM base, Path adapterDir) {
        return PeftModel.load(base, adapterDir);
    }
}
