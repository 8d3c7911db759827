package oneml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.norm.LayerNorm;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GPT-2: learned positions, pre-LayerNorm blocks, a fused q/k/v projection ({@code attn.c_attn}), the
 * tanh-approximated GELU and a head tied to the token embeddings. Module names carry the
 * {@code transformer.} prefix as GPT2LMHeadModel's state dict does; Conv1D weights, stored [in, out] on
 * disk, are held [out, in] like every other {@link Linear}.
 */
public final class Gpt2 extends CausalLM {
    /** The Conv1D modules whose weights are transposed on disk. */
    static final String[] CONV1D = {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"};

    private final String[] prefixes;

    Gpt2(ModelConfig config, NDManager manager, Map<String, NDArray> stateDict, Map<String, oneml.quant.QuantizedTensor> prequantized) {
        super(config, manager, stateDict, prequantized);
        weight("transformer.wte.weight");
        weight("transformer.wpe.weight");
        registerModule("transformer.wte");
        registerModule("transformer.wpe");
        prefixes = new String[config.numLayers()];
        for (int i = 0; i < config.numLayers(); i++) {
            String p = "transformer.h." + i;
            prefixes[i] = p;
            registerModule(p + ".ln_1");
            registerLinear(p + ".attn.c_attn", true);
            registerLinear(p + ".attn.c_proj", true);
            registerModule(p + ".ln_2");
            registerLinear(p + ".mlp.c_fc", true);
            registerLinear(p + ".mlp.c_proj", true);
        }
        registerModule("transformer.ln_f");
        registerModule("lm_head");
    }

    @Override
    public NDArray embed(NDArray inputIds, int positionOffset) {
        NDArray tokens = Embedding.embedding(inputIds, param("transformer.wte.weight"), SparseFormat.DENSE).singletonOrThrow();
        if (positionOffset == 0) {
            tokens = hooks().inputEmbeddings(tokens); // prompt tuning's virtual tokens get positions too
        }
        long t = tokens.getShape().get(1);
        if (positionOffset + t > config.maxPositions()) {
            throw new IllegalArgumentException("sequence of " + (positionOffset + t) + " tokens exceeds GPT-2's "
                    + config.maxPositions() + " learned positions");
        }
        NDArray positions = inputIds.getManager().arange(positionOffset, positionOffset + (int) t).toType(ai.djl.ndarray.types.DataType.INT64, false);
        NDArray pos = Embedding.embedding(positions, param("transformer.wpe.weight"), SparseFormat.DENSE).singletonOrThrow();
        return tokens.add(pos);
    }

    @Override
    public NDArray block(int layer, NDArray h, int positionOffset, KvCache cache) {
        String p = prefixes[layer];
        long b = h.getShape().get(0);
        long t = h.getShape().get(1);
        int heads = config.numHeads();
        int d = config.headDim();
        long hidden = config.hiddenSize();

        NDArray x = layerNorm(h, p + ".ln_1");
        NDList qkv = linear(p + ".attn.c_attn").forward(x).split(3, 2);
        NDArray q = qkv.get(0).reshape(b, t, heads, d).transpose(0, 2, 1, 3);
        NDArray k = qkv.get(1).reshape(b, t, heads, d).transpose(0, 2, 1, 3);
        NDArray v = qkv.get(2).reshape(b, t, heads, d).transpose(0, 2, 1, 3);
        NDList prefixed = withPrefix(layer, k, v, cache);
        k = prefixed.get(0);
        v = prefixed.get(1);
        if (cache != null) {
            NDList kv = cache.append(layer, k, v, 0);
            k = kv.get(0);
            v = kv.get(1);
        }
        NDArray attention = attend(q, k, v, 0).transpose(0, 2, 1, 3).reshape(b, t, hidden);
        h = h.add(hooks().afterAttention(layer, linear(p + ".attn.c_proj").forward(attention)));

        NDArray y = layerNorm(h, p + ".ln_2");
        NDArray mlp = linear(p + ".mlp.c_proj").forward(geluTanh(linear(p + ".mlp.c_fc").forward(y)));
        return h.add(hooks().afterMlp(layer, mlp));
    }

    @Override
    public NDArray head(NDArray h) {
        return ai.djl.nn.core.Linear.linear(layerNorm(h, "transformer.ln_f"), param(LM_HEAD)).singletonOrThrow();
    }

    private NDArray layerNorm(NDArray x, String module) {
        return LayerNorm.layerNorm(x, new Shape(config.hiddenSize()), param(module + ".weight"), param(module + ".bias"),
                (float) config.normEps()).singletonOrThrow();
    }

    /** GELU with the tanh approximation ("gelu_new"), which GPT-2 was trained with. */
    static NDArray geluTanh(NDArray x) {
        NDArray inner = Scalars.times(x.add(Scalars.times(x.mul(x).mul(x), 0.044715)), Math.sqrt(2.0 / Math.PI));
        return Scalars.times(x, 0.5).mul(inner.tanh().add(1));
    }

    @Override
    protected Map<String, NDArray> diskStateDict(NDManager scratch) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (var e : stateDict().entrySet()) {
            NDArray a = e.getValue();
            if (isConv1dWeight(e.getKey())) {
                NDArray t = a.transpose().duplicate();
                t.attach(scratch);
                a = t;
            }
            out.put(e.getKey(), a);
        }
        return out;
    }

    static boolean isConv1dWeight(String name) {
        if (!name.endsWith(".weight")) {
            return false;
        }
        for (String c : CONV1D) {
            if (name.endsWith(c + ".weight")) {
                return true;
            }
        }
        return false;
    }
}
