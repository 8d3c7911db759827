package oneml;

import java.nio.file.Path;
import oneml.io.StorageType;
import oneml.model.CausalLM;
import oneml.model.Checkpoints;
import oneml.model.Engines;
import oneml.model.ModelConfig;

/** Entry points for getting a model: load a Hugging Face folder, or build a fresh one from a config. */
public final class Models {
    private Models() {}

    /** Where the embedded default model lives inside the project. */
    public static final String TINY_PATH = Checkpoints.TINY_PATH;

    /**
     * The embedded default: a 3.1M-parameter Llama-layout model with a word-level tokenizer, pretrained by
     * oneml on its synthetic corpus (models/oneml-tiny/README.md says how to rebuild it).
     */
    public static CausalLM tiny() {
        return load(oneml.io.ProjectHome.find(TINY_PATH));
    }

    /**
     * Loads config.json + model.safetensors (or shards) from a local folder; weights become float32, except in a
     * checkpoint saved in bitsandbytes' 4-bit layout (config.json's {@code quantization_config} with
     * {@code load_in_4bit}), whose linear weights load straight into the 4-bit base without a float32 copy.
     */
    public static CausalLM load(Path dir) {
        return Checkpoints.load(dir, Engines.rootManager());
    }

    /** A randomly initialised model of the given shape (seeded), for pretraining and benchmarks. */
    public static CausalLM random(ModelConfig config, long seed) {
        return Checkpoints.initialise(config, seed, Engines.rootManager());
    }

    /**
     * Saves in Hugging Face layout with weights stored as F32, F16 or BF16; a 4-bit model's linear weights in
     * bitsandbytes' layout (what {@link #load} reads back, byte for byte).
     */
    public static void save(CausalLM model, Path dir, StorageType type) {
        Checkpoints.save(model, dir, type);
    }
}
