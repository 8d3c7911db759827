package oneml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import oneml.tensor.Kernels;

/**
 * A decoder-only language model over DJL arrays: token embeddings, a stack of transformer blocks, a final
 * norm and a head. Subclasses ({@link Llama}, {@link Gpt2}) each read top to bottom in one file.
 *
 * <p>Two maps describe the model. {@link #stateDict()} holds every weight under its Hugging Face name
 * (frozen unless someone asks for gradients: full fine-tuning does). {@link #linears()} maps each module
 * path to whatever currently computes that projection, which is how PEFT methods wrap layers.
 */
public abstract sealed class CausalLM implements AutoCloseable permits Llama, Gpt2 {
    protected final ModelConfig config;
    protected final NDManager manager;
    private final Map<String, NDArray> stateDict;
    private final Map<String, LinearLayer> linears = new LinkedHashMap<>();
    private final List<String> moduleNames = new ArrayList<>();
    private final HookChain hooks = new HookChain();
    private QuantizationSummary quantization;
    private TextTokenizer tokenizer;
    private final Map<String, NDArray> overrides = new java.util.HashMap<>();

    /** The output projection's weight name; with tied embeddings it reads the token embeddings. */
    public static final String LM_HEAD = "lm_head.weight";

    private final Map<String, oneml.quant.QuantizedTensor> prequantized; // 4-bit weights read from a checkpoint

    /** {@code prequantized}: linear weights (by state-dict name) that arrive in 4 bits, absent from the state dict. */
    protected CausalLM(ModelConfig config, NDManager manager, Map<String, NDArray> stateDict,
            Map<String, oneml.quant.QuantizedTensor> prequantized) {
        this.config = config;
        this.manager = manager;
        this.stateDict = stateDict;
        this.prequantized = prequantized;
    }

    public ModelConfig config() {
        return config;
    }

    /** The long-lived manager that owns the weights; per-step work should use a sub-manager of it. */
    public NDManager manager() {
        return manager;
    }

    /** Every weight by its Hugging Face state-dict name, in the layout of {@link #save}'s file for Llama. */
    public Map<String, NDArray> stateDict() {
        return Collections.unmodifiableMap(stateDict);
    }

    /**
     * Bytes of the weights as they are held now: the float32 arrays of the state dict (a tied head counted
     * once) and, for a quantised base, each linear's 4-bit codes, scales and lookup tables. Counted, not
     * measured: it is exact for what stays resident, where the process RSS also moves with allocator and JVM.
     */
    public long residentBytes() {
        java.util.Set<NDArray> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        long bytes = 0;
        for (NDArray a : stateDict.values()) {
            if (seen.add(a)) {
                bytes += a.size() * a.getDataType().getNumOfBytes();
            }
        }
        for (LinearLayer l : linears.values()) {
            if (l.base().isQuantized()) {
                bytes += l.base().quantizedWeight().residentBytes();
            }
        }
        return bytes;
    }

    /** Module path to the layer that computes it now (the base {@link Linear} or a PEFT wrapper). */
    public Map<String, LinearLayer> linears() {
        return Collections.unmodifiableMap(linears);
    }

    /** Every module path of the model, in forward order (embeddings, blocks and their parts, norm, head). */
    public List<String> moduleNames() {
        return Collections.unmodifiableList(moduleNames);
    }

    public LinearLayer linear(String path) {
        LinearLayer layer = linears.get(path);
        if (layer == null) {
            throw new IllegalArgumentException("no linear module '" + path + "'; linear modules are " + linears.keySet());
        }
        return layer;
    }

    /** Swaps the layer at {@code path} for {@code wrap(current)}; how LoRA and friends attach. */
    public void replaceLinear(String path, UnaryOperator<LinearLayer> wrap) {
        LinearLayer current = linear(path);
        LinearLayer next = wrap.apply(current);
        if (next.inFeatures() != current.inFeatures() || next.outFeatures() != current.outFeatures()) {
            throw new IllegalArgumentException(path + ": replacement changes the shape of the projection");
        }
        linears.put(path, next);
    }

    /** The tokenizer that came with the checkpoint (tokenizer.json in its folder). */
    public TextTokenizer tokenizer() {
        if (tokenizer == null) {
            throw new IllegalStateException("this model has no tokenizer: its folder had no tokenizer.json"
                    + " (attach one with setTokenizer(TextTokenizer.load(path)))");
        }
        return tokenizer;
    }

    public boolean hasTokenizer() {
        return tokenizer != null;
    }

    public void setTokenizer(TextTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Adds hooks that put prefixes, virtual tokens or adapters around blocks (PEFT methods that are not
     * weight wrappers). Several may be installed; each acts only while its adapter is enabled.
     */
    public void addHooks(ForwardHooks added) {
        hooks.add(added);
    }

    public void removeHooks(ForwardHooks removed) {
        hooks.remove(removed);
    }

    /** All installed hooks acting as one. */
    public ForwardHooks hooks() {
        return hooks;
    }

    public long parameterCount() {
        long n = 0;
        for (NDArray a : stateDict.values()) {
            n += a.size();
        }
        for (LinearLayer l : linears.values()) {
            if (l.base().isQuantized()) { // its weight left the state dict when it was quantised
                n += l.inFeatures() * l.outFeatures();
            }
        }
        return n;
    }

    /** True once {@link #quantize} has turned the linear weights into 4-bit codes. */
    public boolean isQuantized() {
        return quantization != null;
    }

    /** What quantisation did to the linear weights, or null for a dense model. */
    public QuantizationSummary quantization() {
        return quantization;
    }

    /**
     * Stores every linear weight (targets of adapters or not) in 4 bits, as QLoRA does with its frozen base,
     * freeing the float32 arrays. Embeddings, norms and an untied head stay float32, as in bitsandbytes.
     */
    public QuantizationSummary quantize(oneml.quant.QuantConfig quantConfig) {
        if (quantization != null) {
            throw new IllegalStateException("the model is quantised already: " + quantization);
        }
        long params = 0;
        long bytes = 0;
        double absErrorSum = 0;
        double maxError = 0;
        for (LinearLayer l : linears.values()) {
            Linear base = l.base();
            oneml.quant.QuantError error = base.quantize(quantConfig);
            stateDict.remove(base.path() + ".weight");
            long n = base.inFeatures() * base.outFeatures();
            params += n;
            bytes += base.quantizedBytes();
            absErrorSum += error.meanAbs() * n;
            maxError = Math.max(maxError, error.maxAbs());
        }
        quantization = new QuantizationSummary(quantConfig, params, bytes, absErrorSum / params, maxError);
        System.gc(); // the float32 copies quantising went through are garbage: let the heap shrink back
        NativeMemory.trim(); // and hand the freed float32 weights back (glibc keeps freed memory otherwise)
        return quantization;
    }

    /**
     * Marks the model quantised after it was built from a checkpoint whose linear weights came in 4 bits (see
     * {@link Checkpoints}); the dequantisation error is unknown then (the float32 weights were never here).
     */
    void adoptQuantization() {
        long params = 0;
        long bytes = 0;
        oneml.quant.QuantConfig first = null;
        for (LinearLayer l : linears.values()) {
            Linear base = l.base();
            if (base.isQuantized()) {
                if (first == null) {
                    first = base.quantConfig();
                } else if (!first.equals(base.quantConfig())) {
                    throw new IllegalArgumentException("the 4-bit weights are stored in different ways (" + first + " and "
                            + base.quantConfig() + " at " + base.path() + "); oneml needs one storage for the whole model");
                }
                params += base.inFeatures() * base.outFeatures();
                bytes += base.quantizedBytes();
            }
        }
        if (first != null) {
            quantization = new QuantizationSummary(first, params, bytes, Double.NaN, Double.NaN);
        }
    }

    protected void registerModule(String path) {
        moduleNames.add(path);
    }

    protected Linear registerLinear(String path, boolean bias) {
        NDArray b = bias ? weight(path + ".bias") : null;
        oneml.quant.QuantizedTensor codes = prequantized.get(path + ".weight");
        Linear linear = codes != null ? new Linear(path, codes, b, manager) : new Linear(path, weight(path + ".weight"), b);
        linears.put(path, linear);
        moduleNames.add(path);
        return linear;
    }

    /**
     * The array the forward pass uses for a (non-linear) weight: an override installed by a PEFT method
     * (modules_to_save keeps a trainable copy of, say, the head) or else the base weight. The tied head
     * reads the token embeddings.
     */
    protected NDArray param(String name) {
        NDArray o = overrides.get(name);
        if (o != null) {
            return o;
        }
        if (name.equals(LM_HEAD) && !stateDict.containsKey(LM_HEAD)) {
            return weight(config.family() == ModelConfig.Family.GPT2 ? "transformer.wte.weight" : "model.embed_tokens.weight");
        }
        return weight(name);
    }

    /** The base array {@link #param} would read for {@code name} without overrides (the tied head included). */
    public NDArray baseParam(String name) {
        NDArray saved = overrides.remove(name);
        try {
            return param(name);
        } finally {
            if (saved != null) {
                overrides.put(name, saved);
            }
        }
    }

    /** The arrays {@link #embed} reads (token and position tables, or their modules_to_save copies). */
    public List<NDArray> embeddingArrays() {
        List<NDArray> arrays = new ArrayList<>();
        for (String name : config.family() == ModelConfig.Family.GPT2
                ? List.of("transformer.wte.weight", "transformer.wpe.weight") : List.of("model.embed_tokens.weight")) {
            arrays.add(param(name));
        }
        return arrays;
    }

    /** Makes the forward pass read {@code value} in place of the weight {@code name}. */
    public void setOverride(String name, NDArray value) {
        overrides.put(name, value);
    }

    /** Removes the override of {@code name} if it is {@code value} (another adapter's stays). */
    public void clearOverride(String name, NDArray value) {
        overrides.remove(name, value);
    }

    /** Weight names of a module path, e.g. "model.norm" -> [model.norm.weight]; the head is "lm_head". */
    public List<String> weightNames(String modulePath) {
        List<String> names = new ArrayList<>();
        for (String key : stateDict.keySet()) {
            if (key.startsWith(modulePath + ".") && key.indexOf('.', modulePath.length() + 1) < 0) {
                names.add(key);
            }
        }
        if (names.isEmpty() && modulePath.equals("lm_head")) {
            names.add(LM_HEAD);
        }
        return names;
    }

    protected NDArray weight(String name) {
        NDArray a = stateDict.get(name);
        if (a == null) {
            throw new IllegalArgumentException("checkpoint lacks weight '" + name + "'");
        }
        return a;
    }

    // ---- forward ------------------------------------------------------------------------------------

    /** Logits [B, T, vocab] for token ids [B, T] (int64); the result lives in the ids' manager. */
    public NDArray forward(NDArray inputIds) {
        return forward(inputIds, null);
    }

    /** As {@link #forward(NDArray)}, continuing from (and extending) a cache of earlier positions. */
    public NDArray forward(NDArray inputIds, KvCache cache) {
        boolean fresh = cache == null || cache.length() == 0;
        int offset = fresh ? startPosition() : cache.length();
        NDArray h = embed(inputIds, offset);
        for (int i = 0; i < config.numLayers(); i++) {
            h = block(i, h, offset, cache);
        }
        if (cache != null) {
            cache.advance((int) h.getShape().get(1) + (fresh ? hooks.prefixLength() : 0));
        }
        NDArray logits = head(h);
        return fresh ? dropVirtualTokens(logits) : logits;
    }

    /** Position of the first real token of a new sequence: after any prefix-tuning keys. */
    public int startPosition() {
        return hooks.prefixLength();
    }

    /** Logits without the positions of prompt tuning's virtual tokens, so callers always see [B, T, vocab]. */
    public NDArray dropVirtualTokens(NDArray logits) {
        int virtual = hooks.virtualTokens();
        return virtual == 0 ? logits : logits.get(new NDIndex(":, {}:", virtual));
    }

    /**
     * Keys and values of a block with the hooks' prefix in front (first pass of a sequence only: later
     * cached passes find the prefix in the cache already).
     */
    protected NDList withPrefix(int layer, NDArray k, NDArray v, KvCache cache) {
        if (hooks.prefixLength() > 0 && (cache == null || cache.length() == 0)) {
            NDList prefix = hooks.keyValuePrefix(layer, k.getShape().get(0), k.getManager());
            if (prefix != null) {
                k = NDArrays.concat(new NDList(prefix.get(0), k), 2);
                v = NDArrays.concat(new NDList(prefix.get(1), v), 2);
            }
        }
        return new NDList(k, v);
    }

    /**
     * Token (and for GPT-2 position) embeddings, [B, T] ids to [B, T', hidden]; at position 0 the hooks may
     * prepend virtual tokens (T' = T + virtual).
     */
    public abstract NDArray embed(NDArray inputIds, int positionOffset);

    /** Transformer block {@code layer}; {@code positionOffset} is the position of the first token of h. */
    public abstract NDArray block(int layer, NDArray h, int positionOffset, KvCache cache);

    /** Final norm and the vocabulary projection, [B, T, hidden] to [B, T, vocab]. */
    public abstract NDArray head(NDArray h);

    /**
     * Scaled dot-product attention with a causal mask. q [B, H, T, D]; k, v [B, KV, S, D] where the last T
     * of the S key positions are the queries' own; KV heads are shared by H / KV query heads each.
     * Keys that precede the sequence (prefix-tuning's virtual tokens, cached positions) are visible to every
     * query, unless a sliding {@code window} (0: none) puts them out of its reach: as in Hugging Face's
     * sliding-window causal mask, the query at key position i sees key j when {@code j <= i} and {@code i - j < window}.
     */
    protected NDArray attend(NDArray q, NDArray k, NDArray v, int window) {
        long b = q.getShape().get(0);
        long heads = q.getShape().get(1);
        long t = q.getShape().get(2);
        long d = q.getShape().get(3);
        long kvHeads = k.getShape().get(1);
        long s = k.getShape().get(2);
        boolean windowReaches = window > 0 && s > window; // shorter than the window, the mask is the causal one
        if (t == s && t > 1 && !windowReaches) { // a whole sequence, no prefix, no cache: libtorch's fused causal attention
            return Kernels.causalAttention(q, k, v);
        }
        if (kvHeads != heads) {
            long group = heads / kvHeads;
            k = k.expandDims(2).broadcast(b, kvHeads, group, s, d).reshape(b, heads, s, d);
            v = v.expandDims(2).broadcast(b, kvHeads, group, s, d).reshape(b, heads, s, d);
        }
        // scale q rather than the scores: [B, H, T, D] is smaller than [B, H, T, S]
        NDArray scores = Scalars.dividedBy(q, Math.sqrt(d)).matMul(k.transpose(0, 1, 3, 2));
        if (t > 1 || windowReaches) {
            scores = scores.add(maskFor(q.getManager(), t, s, windowReaches ? window : 0));
        }
        return scores.softmax(-1).matMul(v);
    }

    private NDArray cachedMask;
    private int cachedMaskWindow;

    /** The mask, built once per forward pass and shared by every layer with the same window (same manager, same sizes). */
    private NDArray maskFor(NDManager manager, long t, long s, int window) {
        NDArray m = cachedMask;
        if (m == null || m.isReleased() || m.getManager() != manager || m.getShape().get(0) != t || m.getShape().get(1) != s
                || cachedMaskWindow != window) {
            m = causalMask(manager, t, s, window);
            cachedMask = m;
            cachedMaskWindow = window;
        }
        return m;
    }

    /**
     * [T, S] additive mask: query i (at key position S - T + i) sees keys 0 .. S - T + i, and with a sliding
     * {@code window} (0: none) only the last {@code window} of them.
     */
    static NDArray causalMask(NDManager manager, long t, long s, int window) {
        float[] mask = new float[(int) (t * s)];
        long shift = s - t;
        for (int i = 0; i < t; i++) {
            long position = shift + i;
            for (int j = 0; j < s; j++) {
                boolean visible = j <= position && (window == 0 || position - j < window);
                mask[(int) (i * s + j)] = visible ? 0f : -1e9f;
            }
        }
        return manager.create(mask, new Shape(t, s));
    }

    // ---- generation ---------------------------------------------------------------------------------

    /** Greedy continuation of {@code prompt} (bos + prompt tokens), decoded: for demos and quick checks. */
    public String generate(String prompt, int maxNewTokens) {
        return generate(prompt, GenerationConfig.greedy(maxNewTokens));
    }

    public String generate(String prompt, GenerationConfig generation) {
        return tokenizer().decode(Generator.generate(this, promptIds(prompt), generation));
    }

    /**
     * The prompt and its continuation, decoded together from the tokens: a continuation that starts inside a word
     * joins it ("The movie was" + "eanor" reads "The movie waseanor"), and nothing is added between them.
     */
    public String complete(String prompt, GenerationConfig generation) {
        long[] prefix = tokenizer().encode(prompt);
        long[] continuation = Generator.generate(this, promptIds(prompt), generation);
        long[] all = java.util.Arrays.copyOf(prefix, prefix.length + continuation.length);
        System.arraycopy(continuation, 0, all, prefix.length, continuation.length);
        return tokenizer().decode(all);
    }

    /** The ids generation starts from: the config's BOS token (when it has one) and the prompt's tokens. */
    private long[] promptIds(String prompt) {
        long[] encoded = tokenizer().encode(prompt);
        if (config.bosTokenId() < 0) {
            return encoded;
        }
        long[] ids = new long[encoded.length + 1];
        ids[0] = config.bosTokenId();
        System.arraycopy(encoded, 0, ids, 1, encoded.length);
        return ids;
    }

    // ---- loss ---------------------------------------------------------------------------------------

    /** Label value that the loss ignores (prompt tokens, padding), as in Hugging Face. */
    public static final long IGNORE = -100;

    /**
     * Mean causal-LM cross-entropy: logits at position i predict labels at i + 1; labels equal to
     * {@link #IGNORE} do not count. Returns a scalar in the logits' manager.
     */
    public static NDArray causalLmLoss(NDArray logits, NDArray labels) {
        ai.djl.ndarray.types.Shape l = logits.getShape();
        if (l.dimension() != 3 || !labels.getShape().equals(new ai.djl.ndarray.types.Shape(l.get(0), l.get(1)))) {
            throw new IllegalArgumentException("the loss needs logits [batch, positions, vocab] and labels [batch, positions]; got logits "
                    + l + " and labels " + labels.getShape());
        }
        return Kernels.causalLmLoss(logits, labels);
    }

    // ---- lifecycle ----------------------------------------------------------------------------------

    /**
     * Writes config.json and model.safetensors (float32, or F16 / BF16 on request) in Hugging Face layout; a 4-bit
     * model in bitsandbytes' layout with config.json's {@code quantization_config}, as transformers saves one.
     */
    public void save(Path dir) {
        Checkpoints.save(this, dir, oneml.io.StorageType.F32);
    }

    /** The state dict as it is laid out on disk (GPT-2 transposes Conv1D weights back to [in, out]). */
    protected Map<String, NDArray> diskStateDict(NDManager scratch) {
        return new LinkedHashMap<>(stateDict);
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
        manager.close();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + " " + config + ", " + String.format(java.util.Locale.ROOT, "%,d", parameterCount()) + " parameters";
    }
}
