package oneml.model;

import ai.djl.ndarray.NDArray;

/**
 * A projection {@code y = x W^T + b} whose weight is stored [out, in], as in PyTorch's nn.Linear.
 * GPT-2's Conv1D weights ([in, out] on disk) are transposed once at load and back at save.
 */
public final class Linear implements LinearLayer {
    private final String path;
    private NDArray weight;
    private final NDArray bias;

    Linear(String path, NDArray weight, NDArray bias) {
        this.path = path;
        this.weight = weight;
        this.bias = bias;
    }

    @Override
    public NDArray forward(NDArray x) {
        return ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
    }

    /** The module's dotted Hugging Face path, e.g. {@code model.layers.0.self_attn.q_proj}. */
    public String path() {
        return path;
    }

    public NDArray weight() {
        return weight;
    }

    /** Null when the projection has no bias. */
    public NDArray bias() {
        return bias;
    }

    /**
     * Replaces the weight values in place (used by merge and unmerge); the new values must have the same shape.
     * The array object stays the same, so the model's state dict keeps pointing at it.
     */
    public void setWeight(NDArray values) {
        if (!values.getShape().equals(weight.getShape())) {
            throw new IllegalArgumentException(path + ": weight shape " + weight.getShape() + " cannot take values of shape " + values.getShape());
        }
        weight.set(values.toType(weight.getDataType(), false).toFloatArray());
    }

    @Override
    public long inFeatures() {
        return weight.getShape().get(1);
    }

    @Override
    public long outFeatures() {
        return weight.getShape().get(0);
    }

    @Override
    public Linear base() {
        return this;
    }

    @Override
    public String toString() {
        return "Linear(" + path + ", in=" + inFeatures() + ", out=" + outFeatures() + (bias != null ? ", bias" : "") + ")";
    }
}
