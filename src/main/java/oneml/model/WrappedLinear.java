package oneml.model;

import ai.djl.ndarray.NDArray;

/**
 * A {@link LinearLayer} that adds to another one (LoRA, DoRA, IA3 wrappers). Wrappers stack: each keeps
 * the layer it wraps, so several adapters can sit on one projection and be removed in any order.
 */
public abstract class WrappedLinear implements LinearLayer {
    private LinearLayer inner;

    protected WrappedLinear(LinearLayer inner) {
        this.inner = inner;
    }

    public LinearLayer inner() {
        return inner;
    }

    void setInner(LinearLayer inner) {
        this.inner = inner;
    }

    protected NDArray innerForward(NDArray x) {
        return inner.forward(x);
    }

    @Override
    public long inFeatures() {
        return inner.inFeatures();
    }

    @Override
    public long outFeatures() {
        return inner.outFeatures();
    }

    @Override
    public Linear base() {
        return inner.base();
    }

    /** Takes {@code wrapper} out of the stack of layers at {@code path}, wherever it sits in it. */
    public static void unwrap(CausalLM model, String path, WrappedLinear wrapper) {
        LinearLayer top = model.linear(path);
        if (top == wrapper) {
            model.replaceLinear(path, current -> wrapper.inner());
            return;
        }
        LinearLayer layer = top;
        while (layer instanceof WrappedLinear w) {
            if (w.inner() == wrapper) {
                w.setInner(wrapper.inner());
                return;
            }
            layer = w.inner();
        }
        throw new IllegalStateException(path + " does not hold the layer to remove");
    }
}
