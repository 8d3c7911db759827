package oneml.compare;

import java.nio.file.Files;
import java.nio.file.Path;
import oneml.model.ModelConfig;

/**
 * The numbers of a model's config that decide its memory: vocabulary, hidden size, layers, heads, key/value heads,
 * MLP size, tied embeddings. Presets for the usual Llama sizes; {@link #of(Path)} reads any Hugging Face config.json.
 */
public record ModelShape(String name, ModelConfig config) {

    /** Llama-2-7B: hidden 4096, 32 layers, 32 heads, MLP 11008, vocabulary 32000 (6.74B parameters). */
    public static ModelShape llama7b() {
        return llama("Llama-7B", 32000, 4096, 32, 32, 32, 11008);
    }

    /** Llama-2-13B: hidden 5120, 40 layers, 40 heads, MLP 13824 (13.0B parameters). */
    public static ModelShape llama13b() {
        return llama("Llama-13B", 32000, 5120, 40, 40, 40, 13824);
    }

    /** Llama-2-70B: hidden 8192, 80 layers, 64 heads sharing 8 key/value heads, MLP 28672 (69.0B parameters). */
    public static ModelShape llama70b() {
        return llama("Llama-70B", 32000, 8192, 80, 64, 8, 28672);
    }

    /** The embedded default, read from models/oneml-tiny/config.json. */
    public static ModelShape tiny() {
        return of(oneml.io.ProjectHome.find(oneml.model.Checkpoints.TINY_PATH));
    }

    /** The shape of the model in a Hugging Face folder (or of a config.json file). */
    public static ModelShape of(Path dirOrConfig) {
        Path file = Files.isDirectory(dirOrConfig) ? dirOrConfig.resolve("config.json") : dirOrConfig;
        Path named = Files.isDirectory(dirOrConfig) ? dirOrConfig : dirOrConfig.toAbsolutePath().getParent();
        return new ModelShape(named == null ? file.toString() : named.getFileName().toString(), ModelConfig.read(file));
    }

    static ModelShape llama(String name, int vocab, int hidden, int layers, int heads, int kvHeads, int intermediate) {
        ModelConfig c = ModelConfig.llama(vocab, hidden, layers, heads, kvHeads, intermediate, 4096);
        // the big Llamas keep a separate output head
        return new ModelShape(name, new ModelConfig(c.family(), c.modelType(), vocab, hidden, layers, heads, kvHeads, c.headDim(), intermediate,
                c.maxPositions(), c.ropeTheta(), c.normEps(), false, false, false, c.bosTokenId(), c.eosTokenId()));
    }

    /** Weights in the linear projections of the blocks (what QLoRA stores in 4 bits). */
    public long linearParameters() {
        ModelConfig c = config;
        long d = c.hiddenSize();
        long kv = c.kvDim();
        long ff = c.intermediateSize();
        long mlp = c.family() == ModelConfig.Family.GPT2 ? 2 * d * ff : 3 * d * ff;
        return c.numLayers() * (2 * d * d + 2 * d * kv + mlp);
    }

    /** Every parameter: embeddings, blocks (with norms and biases), the output head when it is not tied. */
    public long parameters() {
        ModelConfig c = config;
        long d = c.hiddenSize();
        long kv = c.kvDim();
        long ff = c.intermediateSize();
        boolean gpt2 = c.family() == ModelConfig.Family.GPT2;
        long perLayerSmall; // norms and biases
        if (gpt2) {
            perLayerSmall = 4 * d + (d + 2 * kv) + d + ff + d; // two LayerNorms with biases; c_attn, c_proj, c_fc, mlp.c_proj biases
        } else {
            perLayerSmall = 2 * d + (c.qkvBias() ? d + 2 * kv : 0) + (c.outputBias() ? d : 0);
        }
        long embeddings = (long) c.vocabSize() * d + (gpt2 ? (long) c.maxPositions() * d : 0);
        long head = c.tieWordEmbeddings() ? 0 : (long) c.vocabSize() * d;
        long finalNorm = gpt2 ? 2 * d : d;
        return embeddings + linearParameters() + c.numLayers() * perLayerSmall + finalNorm + head;
    }

    @Override
    public String toString() {
        ModelConfig c = config;
        return String.format(java.util.Locale.ROOT, "%s (d_model %d, %d layers, %d heads / %d kv, MLP %d, vocab %d: %,d parameters)", name,
                c.hiddenSize(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.intermediateSize(), c.vocabSize(), parameters());
    }
}
