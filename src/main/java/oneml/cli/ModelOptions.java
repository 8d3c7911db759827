package oneml.cli;

import java.nio.file.Path;
import oneml.Models;
import oneml.Peft;
import oneml.model.CausalLM;
import oneml.peft.PeftModel;
import picocli.CommandLine.Option;

/** --model and --adapter, shared by the commands that load a model. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model folder (default: the embedded oneml-tiny)")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT adapter folder to load on top of the model")
    Path adapter;

    CausalLM loadBase() {
        return model == null ? Models.tiny() : Models.load(model);
    }

    /** The base model, with the adapter applied when --adapter is given (then a PeftModel holds it). */
    CausalLM load() {
        CausalLM base = loadBase();
        if (adapter != null) {
            PeftModel peft = Peft.load(base, adapter);
            return peft.model();
        }
        return base;
    }
}
