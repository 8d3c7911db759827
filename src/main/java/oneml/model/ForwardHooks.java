package oneml.model;

import ai.djl.ndarray.NDArray;

/**
 * Places where PEFT methods that are not weight wrappers plug into the forward pass: key/value prefixes
 * per layer (prefix tuning), virtual-token input embeddings (prompt tuning), and taps after attention and
 * after the MLP of each block (bottleneck adapters). The default does nothing.
 */
public interface ForwardHooks {
    ForwardHooks NONE = new ForwardHooks() {};

    /** Input embeddings [B, T, hidden] before the first block; may prepend virtual tokens. */
    default NDArray inputEmbeddings(NDArray embeddings) {
        return embeddings;
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
