package oneml;

/**
 * Prefix tuning with Hugging Face PEFT's names and defaults: every attention layer also attends to
 * {@code numVirtualTokens} learned key and value positions placed before the sequence.
 * {@code PrefixTuningConfig.builder().numVirtualTokens(10).prefixProjection(true).build()} is PEFT's
 * {@code PrefixTuningConfig(num_virtual_tokens=10, prefix_projection=True)}.
 *
 * <p>The learned array is PEFT's: {@code [num_virtual_tokens, num_layers * 2 * token_dim]} with token_dim =
 * head_dim x num_key_value_heads; with {@code prefixProjection} it is instead computed by a two-layer MLP
 * (Embedding(nvt, token_dim), Linear to encoder_hidden_size, tanh, Linear to num_layers * 2 * token_dim), and a saved
 * adapter holds the MLP's output, so a loaded one needs no MLP.
 *
 * @param numVirtualTokens  key/value positions in front of the sequence, per layer
 * @param prefixProjection  reparameterise the prefix through the MLP while training
 * @param encoderHiddenSize the MLP's hidden width; 0 means token_dim (PEFT's default)
 * @param inferenceMode     PEFT's inference_mode: the values will come from a saved adapter, so the prefix is the
 *                          flat array whatever {@code prefixProjection} says (adapters read from a folder are in this
 *                          mode, as in PEFT)
 */
public record PrefixTuningConfig(int numVirtualTokens, boolean prefixProjection, int encoderHiddenSize, boolean inferenceMode)
        implements PeftConfig {

    public PrefixTuningConfig {
        if (numVirtualTokens <= 0) {
            throw new IllegalArgumentException("prefix tuning needs num_virtual_tokens > 0, got " + numVirtualTokens);
        }
        if (encoderHiddenSize < 0) {
            throw new IllegalArgumentException("encoder_hidden_size must be positive (or 0 for token_dim), got " + encoderHiddenSize);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** True when the prefix is computed by the MLP, i.e. the projection is on and the values are not loaded. */
    public boolean projects() {
        return prefixProjection && !inferenceMode;
    }

    @Override
    public String peftType() {
        return "PREFIX_TUNING";
    }

    @Override
    public String label() {
        return "Prefix tuning " + numVirtualTokens + " tokens";
    }

    @Override
    public String toString() {
        return "PrefixTuningConfig(num_virtual_tokens=" + numVirtualTokens
                + (prefixProjection ? ", prefix_projection=true, encoder_hidden_size="
                        + (encoderHiddenSize == 0 ? "<token_dim>" : String.valueOf(encoderHiddenSize)) : "")
                + (inferenceMode ? ", inference_mode=true" : "") + ")";
    }

    /** Fluent builder with PEFT's defaults (no projection); PEFT has no default token count, this one starts at 20. */
    public static final class Builder {
        private int numVirtualTokens = 20;
        private boolean prefixProjection;
        private int encoderHiddenSize;
        private boolean inferenceMode;

        private Builder() {}

        public Builder numVirtualTokens(int n) {
            this.numVirtualTokens = n;
            return this;
        }

        public Builder prefixProjection(boolean on) {
            this.prefixProjection = on;
            return this;
        }

        public Builder encoderHiddenSize(int size) {
            this.encoderHiddenSize = size;
            return this;
        }

        public Builder inferenceMode(boolean on) {
            this.inferenceMode = on;
            return this;
        }

        public PrefixTuningConfig build() {
            return new PrefixTuningConfig(numVirtualTokens, prefixProjection, encoderHiddenSize, inferenceMode);
        }
    }
}
