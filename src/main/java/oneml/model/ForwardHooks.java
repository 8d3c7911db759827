package oneml.model;

import ai.djl.ndarray.NDArray;

/**
 * Places where PEFT methods that are not weight wrappers plug into the forward pass: key/value prefixes
 * per layer (prefix tuning), virtual-token input embeddings (prompt tuning), and taps after attention and
 * after the MLP of each block (bottleneck adapters). The default does nothing.
 */
public interface ForwardHooks {
    ForwardHooks NONE = new ForwardHooks() {};

    /**
     * Token embeddings [B, T, hidden] at the start of a sequence; prompt tuning prepends
     * {@link #virtualTokens()} learned positions here. Not called for later positions of a cached generation.
     */
    default NDArray inputEmbeddings(NDArray embeddings) {
        return embeddings;
    }

    /** Positions that {@link #inputEmbeddings} prepends; their logits are dropped from the output. */
    default int virtualTokens() {
        return 0;
    }

    /**
     * Keys and values [B, kv_heads, P, head_dim] that every query of {@code layer} also attends to (prefix
     * tuning), or null. They sit before position 0, so real tokens start at position {@link #prefixLength()}.
     */
    default ai.djl.ndarray.NDList keyValuePrefix(int layer, long batch, ai.djl.ndarray.NDManager manager) {
        return null;
    }

    /** P of {@link #keyValuePrefix}: key positions in front of the sequence. */
    default int prefixLength() {
        return 0;
    }

    /** The attention output of {@code layer} [B, T, hidden], before the residual add. */
    default NDArray afterAttention(int layer, NDArray attentionOutput) {
        return attentionOutput;
    }

    /** The MLP output of {@code layer} [B, T, hidden], before the residual add. */
    default NDArray afterMlp(int layer, NDArray mlpOutput) {
        return mlpOutput;
    }
}
