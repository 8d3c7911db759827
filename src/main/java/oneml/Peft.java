package oneml;

import java.nio.file.Path;
import oneml.model.CausalLM;
import oneml.peft.PeftModel;
import oneml.quant.QuantConfig;

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

    /**
     * Loads a Hugging Face PEFT adapter folder (adapter_config.json + adapter_model.safetensors) onto {@code base}
     * for inference: the adapter is frozen, as PEFT's {@code PeftModel.from_pretrained} loads it
     * ({@code is_trainable=False}), so {@code Train.of(model, data)} refuses it. To continue training, use
     * {@link #load(CausalLM, Path, boolean) load(base, dir, true)}.
     *
     * <p>The base is taken as it is. A QLoRA adapter (its model card records the 4-bit config it was trained with)
     * on a float32 base still loads, for merging into full precision, and the model's summary says so; to run it
     * on the 4-bit base it was trained on, use {@link #load(CausalLM, Path, QuantConfig)
     * load(base, dir, QuantConfig.qlora())}, or load a base saved in bitsandbytes' 4-bit layout.
     */
    public static PeftModel load(CausalLM base, Path adapterDir) {
        return PeftModel.load(base, adapterDir);
    }

    /** As {@link #load(CausalLM, Path)}; {@code isTrainable} true (PEFT's {@code is_trainable=True}) to keep training it. */
    public static PeftModel load(CausalLM base, Path adapterDir, boolean isTrainable) {
        return PeftModel.load(base, adapterDir, null, isTrainable);
    }

    /**
     * QLoRA: quantises a float32 {@code base} to {@code quant} (e.g. {@code QuantConfig.qlora()}: NF4, double
     * quantisation, blocks of 64) and loads the adapter over it, frozen. A base quantised already must match
     * {@code quant}.
     */
    public static PeftModel load(CausalLM base, Path adapterDir, QuantConfig quant) {
        return PeftModel.load(base, adapterDir, quant, false);
    }

    /** QLoRA as {@link #load(CausalLM, Path, QuantConfig)}, trainable when {@code isTrainable} is true. */
    public static PeftModel load(CausalLM base, Path adapterDir, QuantConfig quant, boolean isTrainable) {
        return PeftModel.load(base, adapterDir, quant, isTrainable);
    }
}
