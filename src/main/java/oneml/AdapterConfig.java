package oneml;

import java.util.List;
import java.util.Locale;

/**
 * Bottleneck adapters (Houlsby et al. 2019; AdapterHub {@code adapters} 1.2): after a sub-layer of every
 * block, a small MLP {@code h <- h + W_up f(W_down h + b_down) + b_up} with bottleneck
 * {@code hidden_size / reductionFactor}. {@code AdapterConfig.pfeiffer()} (the default) puts one after each
 * MLP with ReLU; {@code AdapterConfig.houlsby()} one after attention and one after the MLP with swish.
 * Field names follow AdapterHub's {@code BnConfig} where one exists.
 *
 * <p>Where the adapter reads: oneml's hooks see a sub-layer's output before the block adds it to the
 * residual stream, so the adapter transforms that output ({@code s <- s + A(s)}, then {@code h + s}), which
 * is the placement of the Houlsby paper. AdapterHub on pre-norm models (Llama, GPT-2) feeds the adapter the
 * sum {@code h + s} instead; both start as the identity and have the same parameters, but a trained
 * adapter file is not interchangeable between the two (see {@code oneml.peft.adapter.BottleneckAdapter}).
 *
 * <p>Initialisation: a new adapter must not change the model, so the default {@code "mam_adapter"} draws
 * W_down Kaiming-uniform (as nn.Linear) and sets W_up and both biases to exactly zero: the output is
 * bit-for-bit the base model's (LoRA's B = 0 trick). AdapterHub's own default {@code "bert"} (both
 * projections N(0, 0.02)) and {@code "houlsby"} (truncated N(0, 0.01)) are available; they start near,
 * not at, the identity.
 *
 * @param reductionFactor hidden size / bottleneck size; the bottleneck is floor(hidden / reductionFactor) and must be at least 1
 * @param nonLinearity    f: "relu", "swish" (same as "silu"), "gelu" (exact, erf) or "tanh"
 * @param afterAttention  an adapter after each attention sub-layer (AdapterHub's mh_adapter)
 * @param afterMlp        an adapter after each MLP sub-layer (AdapterHub's output_adapter)
 * @param initWeights     "mam_adapter" (exact identity at start), "bert" or "houlsby", as AdapterHub's init_weights
 * @param dropout         dropout on the adapter's output while training
 */
public record AdapterConfig(
        int reductionFactor,
        String nonLinearity,
        boolean afterAttention,
        boolean afterMlp,
        String initWeights,
        double dropout) implements PeftConfig {

    public static final List<String> NON_LINEARITIES = List.of("relu", "swish", "silu", "gelu", "tanh");
    public static final List<String> INIT_WEIGHTS = List.of("mam_adapter", "bert", "houlsby");

    public AdapterConfig {
        if (reductionFactor <= 0) {
            throw new IllegalArgumentException("adapter reductionFactor must be positive, got " + reductionFactor
                    + " (the bottleneck is hidden_size / reductionFactor; AdapterHub's default is 16)");
        }
        String f = nonLinearity == null ? "" : nonLinearity.toLowerCase(Locale.ROOT);
        if (!NON_LINEARITIES.contains(f)) {
            throw new IllegalArgumentException("unknown adapter nonLinearity '" + nonLinearity + "': use relu, swish (silu), gelu or tanh");
        }
        nonLinearity = f;
        if (!afterAttention && !afterMlp) {
            throw new IllegalArgumentException("the adapter has no place to go: set afterAttention(true) and/or afterMlp(true)");
        }
        if (!INIT_WEIGHTS.contains(initWeights)) {
            throw new IllegalArgumentException("unknown adapter initWeights '" + initWeights + "': use mam_adapter (identity at start), bert or houlsby");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("adapter dropout must be in [0, 1), got " + dropout);
        }
    }

    /** AdapterHub's {@code SeqBnConfig} ("pfeiffer", the default): after each MLP, reduction 16, ReLU. */
    public static AdapterConfig pfeiffer() {
        return builder().build();
    }

    /** AdapterHub's {@code DoubleSeqBnConfig} ("houlsby"): after attention and after the MLP, reduction 16, swish. */
    public static AdapterConfig houlsby() {
        return builder().afterAttention(true).afterMlp(true).nonLinearity("swish").build();
    }

    /** Starts from the Pfeiffer preset. */
    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().reductionFactor(reductionFactor).nonLinearity(nonLinearity).afterAttention(afterAttention)
                .afterMlp(afterMlp).initWeights(initWeights).dropout(dropout);
    }

    /**
     * The bottleneck width for a model of hidden size {@code hiddenSize}; a reduction factor larger than the
     * hidden size would leave none, which is an error rather than AdapterHub's silent width 1.
     */
    public int bottleneckSize(int hiddenSize) {
        int m = hiddenSize / reductionFactor;
        if (m < 1) {
            throw new IllegalArgumentException("adapter reductionFactor " + reductionFactor + " leaves no bottleneck for hidden size "
                    + hiddenSize + " (" + hiddenSize + " / " + reductionFactor + " < 1): use a reductionFactor of at most " + hiddenSize);
        }
        return m;
    }

    @Override
    public String peftType() {
        return "BOTTLENECK";
    }

    /** "Pfeiffer adapter rf=16", "Houlsby adapter rf=16", or "Bottleneck adapter rf=8 gelu attn+mlp" for other mixes. */
    @Override
    public String label() {
        if (!afterAttention && nonLinearity.equals("relu")) {
            return "Pfeiffer adapter rf=" + reductionFactor;
        }
        if (afterAttention && afterMlp && isSwish()) {
            return "Houlsby adapter rf=" + reductionFactor;
        }
        return "Bottleneck adapter rf=" + reductionFactor + " " + nonLinearity + " " + places();
    }

    /** swish and silu are the same function, x * sigmoid(x). */
    public boolean isSwish() {
        return nonLinearity.equals("swish") || nonLinearity.equals("silu");
    }

    private String places() {
        return afterAttention && afterMlp ? "attn+mlp" : afterAttention ? "attn" : "mlp";
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("AdapterConfig(");
        s.append("reduction_factor=").append(reductionFactor).append(", non_linearity=").append(nonLinearity)
                .append(", placement=").append(places());
        if (!initWeights.equals("mam_adapter")) {
            s.append(", init_weights=").append(initWeights);
        }
        if (dropout > 0) {
            s.append(", dropout=").append(dropout);
        }
        return s.append(')').toString();
    }

    /** Fluent builder with the Pfeiffer preset's values: reduction 16, ReLU, after the MLP only, identity init. */
    public static final class Builder {
        private int reductionFactor = 16;
        private String nonLinearity = "relu";
        private boolean afterAttention;
        private boolean afterMlp = true;
        private String initWeights = "mam_adapter";
        private double dropout;

        private Builder() {}

        public Builder reductionFactor(int factor) {
            this.reductionFactor = factor;
            return this;
        }

        public Builder nonLinearity(String f) {
            this.nonLinearity = f;
            return this;
        }

        /** An adapter after each attention sub-layer (AdapterHub's mh_adapter). */
        public Builder afterAttention(boolean on) {
            this.afterAttention = on;
            return this;
        }

        /** An adapter after each MLP sub-layer (AdapterHub's output_adapter). */
        public Builder afterMlp(boolean on) {
            this.afterMlp = on;
            return this;
        }

        public Builder initWeights(String mode) {
            this.initWeights = mode;
            return this;
        }

        public Builder dropout(double p) {
            this.dropout = p;
            return this;
        }

        public AdapterConfig build() {
            return new AdapterConfig(reductionFactor, nonLinearity, afterAttention, afterMlp, initWeights, dropout);
        }
    }
}
