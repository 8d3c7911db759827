package oneml.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import oneml.model.ModelConfig;

/**
 * Estimates training memory from a model's shape, per method: weights, gradients, AdamW's two moments and the
 * activations autograd keeps for backward. The same arithmetic as the usual rules of thumb (16 bytes per parameter
 * for full fine-tuning in fp32 or mixed precision), with the activation count taken from oneml's Llama block:
 * per layer about 14 tensors of [B, T, d_model], 3 of [B, T, kv_dim], 5 of [B, T, mlp] (SwiGLU) and 2 of
 * [B, heads, T, keys] (softmax output and its gradient), plus the head's logits, log-probabilities and their gradient.
 *
 * <p>Two assumptions are switches, applied to every method alike and named in the plan's title:
 * <ul>
 * <li>{@link #gradientCheckpointing(boolean)} (default off, as oneml trains): on, each block keeps only its input
 * and one block's tensors are alive at a time during backward (recomputed from that input). QLoRA's paper trains
 * with it on, which is where much of its headline saving comes from; {@link #alsoCheckpointed(String...)} adds
 * "method + checkpointing" rows next to the plain ones so the two savings can be told apart.</li>
 * <li>{@link #attention(Attention)}: {@link Attention#EAGER} stores the [B, heads, T, keys] scores (oneml's block
 * does); {@link Attention#FUSED} (FlashAttention, PyTorch's SDPA) stores only a per-row log-sum-exp and recomputes the
 * scores in backward. The default follows the model's size, like the precision: eager below a billion parameters
 * (oneml's own training), fused from a billion up (how such models are trained).</li>
 * </ul>
 *
 * <pre>{@code MemoryPlanner.of(ModelShape.llama70b()).batchSize(1).sequenceLength(2048).alsoCheckpointed("lora", "qlora").plan().table()}</pre>
 */
public final class MemoryPlanner {
    /** Per-layer activation tensors of oneml's Llama block, in units of [B, T, width] (see the class comment). */
    static final int ACT_HIDDEN = 14;
    static final int ACT_KV = 3;
    static final int ACT_MLP = 5;
    static final int ACT_SCORES = 2;
    /** The head keeps the final norm's tensors (3 x d_model) and logits, log-probabilities and their gradient (3 x vocab). */
    static final int HEAD_HIDDEN = 3;
    static final int HEAD_VOCAB = 3;

    /** How the weights and activations are stored. */
    public enum Precision {
        /** Everything float32, as oneml trains on CPU. */
        FP32("fp32", 4),
        /** bf16 weights, gradients and activations; fp32 master weights and AdamW state (16 bytes/param for full fine-tuning). */
        MIXED("mixed bf16", 2);

        private final String label;
        private final int bytes;

        Precision(String label, int bytes) {
            this.label = label;
            this.bytes = bytes;
        }

        public String label() {
            return label;
        }

        /** Bytes per weight or activation element. */
        public int bytes() {
            return bytes;
        }
    }

    /** What the attention keeps for backward. */
    public enum Attention {
        /** Softmax output and its gradient, [batch, heads, T, keys] each, are stored (oneml's block, "eager" in transformers). */
        EAGER("eager attention (scores stored)"),
        /** FlashAttention / SDPA: only a log-sum-exp per query row is stored; the scores are recomputed in backward. */
        FUSED("fused attention (no scores stored)");

        private final String label;

        Attention(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** The methods the planner knows (full fine-tuning is planned in both precisions). */
    public static final List<String> METHODS = List.of("full", "lora", "dora", "qlora", "ia3", "prompt", "prefix", "adapter");

    private final ModelShape shape;
    private int batchSize = 8;
    private int sequenceLength = 128;
    private Precision precision;
    private int loraRank = 8;
    private int virtualTokens = 10;
    private int reductionFactor = 16;
    private double quantBits = 4.127;
    private boolean checkpointing;
    private Attention attention;
    private final List<String> alsoCheckpointed = new ArrayList<>();

    private MemoryPlanner(ModelShape shape) {
        this.shape = shape;
        // oneml itself trains in float32 with eager attention; models of a billion parameters and more are trained in
        // mixed precision with a fused attention kernel
        boolean large = shape.parameters() >= 1_000_000_000L;
        this.precision = large ? Precision.MIXED : Precision.FP32;
        this.attention = large ? Attention.FUSED : Attention.EAGER;
    }

    public static MemoryPlanner of(ModelShape shape) {
        return new MemoryPlanner(shape);
    }

    public MemoryPlanner batchSize(int b) { batchSize = positive("batch size", b); return this; }
    public MemoryPlanner sequenceLength(int t) { sequenceLength = positive("sequence length", t); return this; }
    /** Precision of the PEFT rows (full fine-tuning is always shown in both). */
    public MemoryPlanner precision(Precision p) { precision = p; return this; }
    /** LoRA, DoRA and QLoRA rank on q_proj and v_proj (default 8). */
    public MemoryPlanner loraRank(int r) { loraRank = positive("LoRA rank", r); return this; }
    /** Prompt and prefix tuning length (default 10). */
    public MemoryPlanner virtualTokens(int n) { virtualTokens = positive("virtual tokens", n); return this; }
    /** Bottleneck adapter: d_model / bottleneck (default 16, Pfeiffer). */
    public MemoryPlanner reductionFactor(int f) { reductionFactor = positive("reduction factor", f); return this; }
    /** Bits per frozen linear weight for QLoRA (4.127 for NF4 with double quantisation, 4.5 without). */
    public MemoryPlanner quantBits(double bits) { quantBits = bits; return this; }
    /** Gradient checkpointing for every method (default off): blocks keep their inputs only and are recomputed in backward. */
    public MemoryPlanner gradientCheckpointing(boolean on) { checkpointing = on; return this; }
    /** Whether the attention scores are stored for backward (eager) or recomputed (fused). */
    public MemoryPlanner attention(Attention a) { attention = java.util.Objects.requireNonNull(a, "attention"); return this; }
    /**
     * Adds a "method + checkpointing" row after each named method's row, when the plan itself does not checkpoint:
     * "lora" next to "lora + checkpointing" shows how much of QLoRA's saving is checkpointing and how much is 4 bits.
     */
    public MemoryPlanner alsoCheckpointed(String... methods) {
        for (String m : methods) {
            trainableParameters(m); // a clear error for a method the planner does not know
            alsoCheckpointed.add(m.toLowerCase(Locale.ROOT));
        }
        return this;
    }

    public boolean gradientCheckpointing() { return checkpointing; }
    public Attention attention() { return attention; }

    private static int positive(String what, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + v);
        }
        return v;
    }

    /** Full fine-tuning in fp32 and in mixed precision, then every PEFT method. */
    public MemoryPlan plan() {
        List<MemoryEstimate> rows = new ArrayList<>();
        rows.add(estimate("full", Precision.FP32));
        rows.add(estimate("full", Precision.MIXED));
        for (String m : METHODS.subList(1, METHODS.size())) {
            addRows(rows, m);
        }
        return new MemoryPlan(shape, batchSize, sequenceLength, attention, checkpointing, rows);
    }

    private void addRows(List<MemoryEstimate> rows, String method) {
        rows.add(estimate(method, precision));
        if (!checkpointing && alsoCheckpointed.contains(method.toLowerCase(Locale.ROOT))) {
            rows.add(estimate(method, precision, true));
        }
    }

    /** The plan for the given methods only, in the planner's precision. */
    public MemoryPlan plan(List<String> methods) {
        List<MemoryEstimate> rows = new ArrayList<>();
        for (String m : methods) {
            addRows(rows, m);
        }
        return new MemoryPlan(shape, batchSize, sequenceLength, attention, checkpointing, rows);
    }

    /** One method's estimate in the given precision, with the planner's checkpointing switch. */
    public MemoryEstimate estimate(String method, Precision p) {
        return estimate(method, p, checkpointing);
    }

    /**
     * One method's estimate; a checkpointed row in a plan that does not checkpoint is named "method + checkpointing"
     * so that the table tells the two rows apart.
     */
    public MemoryEstimate estimate(String method, Precision p, boolean checkpointed) {
        String m = method.toLowerCase(Locale.ROOT);
        String suffix = checkpointed && !checkpointing ? " + checkpointing" : "";
        long n = shape.parameters();
        int a = p.bytes();
        if (m.equals("full")) {
            long weights = p == Precision.FP32 ? 4 * n : 2 * n + 4 * n; // mixed keeps an fp32 master copy
            return new MemoryEstimate((p == Precision.FP32 ? "full" : "full (mixed)") + suffix, p, n, weights, (long) a * n, 8 * n,
                    activations(m, a, checkpointed));
        }
        long trainable = trainableParameters(m);
        long base = m.equals("qlora")
                ? (long) Math.ceil(shape.linearParameters() * quantBits / 8) + (long) a * (n - shape.linearParameters())
                : (long) a * n;
        // trainable parameters, their gradients and AdamW's moments are float32 in both precisions
        return new MemoryEstimate(m + suffix, p, trainable, base + 4 * trainable, 4 * trainable, 8 * trainable, activations(m, a, checkpointed));
    }

    /** The trainable parameter count of each method's default config on this shape (what the real adapters have). */
    public long trainableParameters(String method) {
        ModelConfig c = shape.config();
        long d = c.hiddenSize();
        long kv = c.kvDim();
        long layers = c.numLayers();
        return switch (method.toLowerCase(Locale.ROOT)) {
            case "full" -> shape.parameters();
            case "lora", "qlora" -> layers * loraRank * ((d + d) + (d + kv)); // q_proj [d -> d], v_proj [d -> kv]
            case "dora" -> layers * (loraRank * ((d + d) + (d + kv)) + d + kv); // plus a magnitude per output row
            case "ia3" -> layers * (kv + kv + c.intermediateSize()); // k, v outputs and the down projection's input
            case "prompt" -> virtualTokens * d;
            case "prefix" -> virtualTokens * layers * 2 * kv;
            case "adapter" -> {
                long bottleneck = d / reductionFactor;
                yield layers * (2 * d * bottleneck + bottleneck + d); // down and up projections with biases, after the MLP
            }
            default -> throw new IllegalArgumentException("the planner knows " + METHODS + ", not '" + method + "'");
        };
    }

    /**
     * Bytes of activations kept for backward. Checkpointed, each block keeps only its input and one block's tensors
     * exist at a time (the one being recomputed); eager attention adds the scores, fused attention a log-sum-exp per
     * query row (float32).
     */
    long activations(String method, int bytes, boolean checkpointed) {
        ModelConfig c = shape.config();
        long b = batchSize;
        long t = sequenceLength + (method.equals("prompt") ? virtualTokens : 0);
        long keys = t + (method.equals("prefix") ? virtualTokens : 0);
        long perLayer = bytes * b * t * (ACT_HIDDEN * (long) c.hiddenSize() + ACT_KV * c.kvDim() + ACT_MLP * (long) c.intermediateSize())
                + (attention == Attention.EAGER ? (long) bytes * ACT_SCORES * b * c.numHeads() * t * keys : 4L * b * c.numHeads() * t);
        long head = (long) bytes * b * t * (HEAD_HIDDEN * (long) c.hiddenSize() + HEAD_VOCAB * (long) c.vocabSize());
        long layers = checkpointed ? (long) bytes * c.numLayers() * b * t * c.hiddenSize() + perLayer : c.numLayers() * perLayer;
        return layers + head;
    }
}
