package oneml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import java.util.Map;
import oneml.tensor.Kernels;

/**
 * The Llama family (also Mistral, Qwen2, SmolLM): RMSNorm, rotary position embeddings with the
 * rotate-half convention, grouped-query attention and a SwiGLU MLP. Module names follow Hugging Face:
 * {@code model.layers.N.self_attn.q_proj} and so on.
 */
public final class Llama extends CausalLM {
    private final String[] inputNorms;
    private final String[] postAttentionNorms;
    private final String[] prefixes;
    private final float[] inverseFrequencies;

    Llama(ModelConfig config, NDManager manager, Map<String, NDArray> stateDict, Map<String, oneml.quant.QuantizedTensor> prequantized) {
        super(config, manager, stateDict, prequantized);
        weight("model.embed_tokens.weight");
        registerModule("model.embed_tokens");
        int layers = config.numLayers();
        inputNorms = new String[layers];
        postAttentionNorms = new String[layers];
        prefixes = new String[layers];
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i;
            prefixes[i] = p;
            inputNorms[i] = p + ".input_layernorm.weight";
            weight(inputNorms[i]);
            registerModule(p + ".input_layernorm");
            registerLinear(p + ".self_attn.q_proj", config.qkvBias());
            registerLinear(p + ".self_attn.k_proj", config.qkvBias());
            registerLinear(p + ".self_attn.v_proj", config.qkvBias());
            registerLinear(p + ".self_attn.o_proj", config.outputBias());
            postAttentionNorms[i] = p + ".post_attention_layernorm.weight";
            weight(postAttentionNorms[i]);
            registerModule(p + ".post_attention_layernorm");
            registerLinear(p + ".mlp.gate_proj", config.mlpBias());
            registerLinear(p + ".mlp.up_proj", config.mlpBias());
            registerLinear(p + ".mlp.down_proj", config.mlpBias());
        }
        weight("model.norm.weight");
        registerModule("model.norm");
        registerModule("lm_head");
        int half = config.headDim() / 2;
        inverseFrequencies = new float[half];
        for (int i = 0; i < half; i++) {
            inverseFrequencies[i] = (float) (1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / config.headDim()));
        }
    }

    @Override
    public NDArray embed(NDArray inputIds, int positionOffset) {
        NDArray h = Embedding.embedding(inputIds, param("model.embed_tokens.weight"), SparseFormat.DENSE).singletonOrThrow();
        return positionOffset == 0 ? hooks().inputEmbeddings(h) : h;
    }

    @Override
    public NDArray block(int layer, NDArray h, int positionOffset, KvCache cache) {
        String p = prefixes[layer];
        long b = h.getShape().get(0);
        long t = h.getShape().get(1);
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int d = config.headDim();

        NDArray x = rmsNorm(h, param(inputNorms[layer]));
        NDArray q = linear(p + ".self_attn.q_proj").forward(x).reshape(b, t, heads, d).transpose(0, 2, 1, 3);
        NDArray k = linear(p + ".self_attn.k_proj").forward(x).reshape(b, t, kvHeads, d).transpose(0, 2, 1, 3);
        NDArray v = linear(p + ".self_attn.v_proj").forward(x).reshape(b, t, kvHeads, d).transpose(0, 2, 1, 3);
        NDList cosSin = rotaryFor(h.getManager(), positionOffset, t);
        q = Kernels.rotary(q, cosSin.get(0), cosSin.get(1));
        k = Kernels.rotary(k, cosSin.get(0), cosSin.get(1));
        NDList prefixed = withPrefix(layer, k, v, cache);
        k = prefixed.get(0);
        v = prefixed.get(1);
        int window = config.attentionWindow(layer);
        if (cache != null) {
            NDList kv = cache.append(layer, k, v, window);
            k = kv.get(0);
            v = kv.get(1);
        }
        NDArray attention = attend(q, k, v, window).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * d);
        NDArray attnOut = hooks().afterAttention(layer, linear(p + ".self_attn.o_proj").forward(attention));
        h = h.add(attnOut);

        NDArray y = rmsNorm(h, param(postAttentionNorms[layer]));
        NDArray gateIn = linear(p + ".mlp.gate_proj").forward(y);
        // SiLU(gate) * up in one fused libtorch op (DJL's swish multiplies by a Java number: see Scalars)
        NDArray mlp = linear(p + ".mlp.down_proj").forward(Kernels.siluMul(gateIn, linear(p + ".mlp.up_proj").forward(y)));
        return h.add(hooks().afterMlp(layer, mlp));
    }

    @Override
    public NDArray head(NDArray h) {
        return ai.djl.nn.core.Linear.linear(rmsNorm(h, param("model.norm.weight")), param(LM_HEAD)).singletonOrThrow();
    }

    private NDArray normEps;

    /** weight * (x * rsqrt(mean(x^2) + eps)), as Hugging Face computes it, in one libtorch call. */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        if (normEps == null) {
            normEps = manager.create(config.normEps()); // 0-d float64, lives with the weights
        }
        return Kernels.rmsNorm(x, weight, normEps);
    }

    private NDList cachedRotary;
    private int cachedRotaryOffset;

    /** The rotary tables, built once per forward pass and shared by every layer. */
    private NDList rotaryFor(NDManager manager, int offset, long t) {
        NDList c = cachedRotary;
        if (c == null || c.get(0).isReleased() || c.get(0).getManager() != manager || cachedRotaryOffset != offset
                || c.get(0).getShape().get(0) != t) {
            c = rotaryTables(manager, offset, t);
            cachedRotary = c;
            cachedRotaryOffset = offset;
        }
        return c;
    }

    /**
     * cos and signed sin tables [T, D] for positions offset .. offset + T - 1, each frequency repeated in both halves
     * of the last dimension; the signed table has -sin in its first half (see {@link Kernels#rotary}).
     */
    private NDList rotaryTables(NDManager manager, int offset, long t) {
        int d = config.headDim();
        int half = d / 2;
        float[] cos = new float[(int) t * d];
        float[] signedSin = new float[(int) t * d];
        for (int pos = 0; pos < t; pos++) {
            for (int i = 0; i < half; i++) {
                double angle = (double) (offset + pos) * inverseFrequencies[i];
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                cos[pos * d + i] = c;
                cos[pos * d + i + half] = c;
                signedSin[pos * d + i] = -s;
                signedSin[pos * d + i + half] = s;
            }
        }
        return new NDList(manager.create(cos, new Shape(t, d)), manager.create(signedSin, new Shape(t, d)));
    }
}
