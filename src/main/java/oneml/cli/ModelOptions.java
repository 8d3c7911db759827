package oneml.cli;

import java.nio.file.Path;
import oneml.Models;
import oneml.Peft;
import oneml.model.CausalLM;
import oneml.peft.PeftModel;
import oneml.quant.QuantConfig;
import picocli.CommandLine.Option;

/** --model and --adapter, shared by the commands that load a model. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model folder (default: the embedded oneml-tiny)")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT adapter folder to load on top of the model (frozen, for inference)")
    Path adapter;

    @Option(names = "--load-in-4bit", description = "store the base's linear weights in 4 bits (NF4, double quantisation, blocks of 64,"
            + " as QLoRA does); needed to run a QLoRA adapter on the base it was trained on. A folder saved in bitsandbytes' 4-bit"
            + " layout (config.json with quantization_config) loads in 4 bits without it")
    boolean loadIn4bit;

    CausalLM loadBase() {
        CausalLM base = model == null ? Models.tiny() : Models.load(model);
        if (loadIn4bit && !base.isQuantized()) {
            base.quantize(QuantConfig.qlora());
        }
        return base;
    }

    /** The base model, with the adapter applied (frozen) when --adapter is given (then a PeftModel holds it). */
    CausalLM load() {
        CausalLM base = loadBase();
        if (adapter != null) {
            PeftModel peft = Peft.load(base, adapter); // a QLoRA adapter on a float32 base logs a warning naming --load-in-4bit's path
            return peft.model();
        }
        return base;
    }
}
