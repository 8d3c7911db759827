package oneml.cli;

import java.nio.file.Path;
import oneml.Models;
import oneml.Peft;
import oneml.model.CausalLM;
import oneml.model.TextTokenizer;
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

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json to use (default: the one in the model folder)")
    Path tokenizer;

    CausalLM loadBase() {
        CausalLM base = model == null ? Models.tiny() : Models.load(model);
        try {
            if (tokenizer != null) {
                base.setTokenizer(TextTokenizer.load(tokenizer));
            }
            if (loadIn4bit && !base.isQuantized()) {
                base.quantize(QuantConfig.qlora());
            }
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
        return base;
    }

    /**
     * Fails, before any work, when the model has no tokenizer: which file is missing and the two ways to supply it
     * from the command line.
     */
    static void requireTokenizer(CausalLM model, Path modelDir, String command) {
        if (!model.hasTokenizer()) {
            String dir = modelDir == null ? "the model folder" : modelDir.toString();
            throw new IllegalArgumentException(dir + " has no tokenizer.json, which " + command + " needs to turn text into tokens:"
                    + " copy the model's tokenizer.json into " + dir + ", or pass --tokenizer PATH/TO/tokenizer.json");
        }
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
