package oneml.peft.prompt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import oneml.model.ForwardHooks;

/**
 * The forward-pass side of prompt tuning: the learned [nvt, hidden] embeddings go in front of each sequence's
 * token embeddings. The model drops their logits and keeps them in the KV cache (see {@link ForwardHooks});
 * while the adapter is disabled the hook leaves the input alone and reports no virtual tokens.
 */
final class VirtualTokens implements ForwardHooks {
    private final NDArray prompt;
    private volatile boolean enabled = true;

    VirtualTokens(NDArray prompt) {
        this.prompt = prompt;
    }

    void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    @Override
    public NDArray inputEmbeddings(NDArray embeddings) {
        if (!enabled) {
            return embeddings;
        }
        Shape s = embeddings.getShape();
        // broadcast the parameter to the batch in the step's manager (the step's array comes first)
        NDArray virtual = embeddings.getManager().zeros(new Shape(s.get(0), prompt.getShape().get(0), s.get(2)), embeddings.getDataType())
                .add(prompt);
        return NDArrays.concat(new NDList(virtual, embeddings), 1);
    }

    @Override
    public int virtualTokens() {
        return enabled ? (int) prompt.getShape().get(0) : 0;
    }
}
