package oneml.peft.ia3;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import oneml.model.Linear;
import oneml.model.LinearLayer;
import oneml.model.WrappedLinear;

/**
 * {@code y = inner(x) ⊙ l} for attention-type targets (l is PEFT's [out, 1]), or {@code y = inner(x ⊙ l)} for
 * feed-forward ones (l is [1, in]). Merging multiplies the rows (or columns) of the base weight by l, and the
 * bias too for output scaling, as PEFT's IA3 Linear does.
 *
 * <p>The step's arrays come first in every operation so results land in the step's manager; l itself is
 * copied into that manager before it is reshaped.
 */
final class IA3Layer extends WrappedLinear {
    /** PEFT adds this before dividing in unmerge, so that a zero entry does not give infinities. */
    private static final float UNMERGE_EPSILON = 1e-8f;

    final String path;
    final NDArray vector;
    final boolean feedforward;
    private boolean enabled = true;
    private boolean merged;

    IA3Layer(String path, LinearLayer inner, NDArray vector, boolean feedforward) {
        super(inner);
        this.path = path;
        this.vector = vector;
        this.feedforward = feedforward;
    }

    @Override
    public NDArray forward(NDArray x) {
        if (!enabled || merged) {
            return innerForward(x);
        }
        if (feedforward) {
            return innerForward(x.mul(vector)); // [.., in] * [1, in]
        }
        NDArray y = innerForward(x);
        NDArray scale = y.getManager().zeros(new Shape()).add(vector).reshape(outFeatures());
        return y.mul(scale);
    }

    void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    boolean isMerged() {
        return merged;
    }

    /** W <- W ⊙ l: [out, in] times [out, 1] scales rows (outputs), times [1, in] scales columns (inputs). */
    void merge() {
        if (merged) {
            return;
        }
        rescale(false);
        merged = true;
    }

    /** W <- W / (l + 1e-8), as PEFT does; exact up to float rounding unless an entry of l is near zero. */
    void unmerge() {
        if (!merged) {
            return;
        }
        rescale(true);
        merged = false;
    }

    private void rescale(boolean divide) {
        Linear base = base();
        try (NDManager scratch = vector.getManager().newSubManager()) {
            NDArray l = scratch.zeros(new Shape()).add(vector);
            if (divide) {
                l = l.add(UNMERGE_EPSILON);
            }
            NDArray w = scratch.zeros(new Shape()).add(base.weight(scratch));
            base.setWeight(divide ? w.div(l) : w.mul(l));
            if (!feedforward && base.bias() != null) {
                NDArray b = scratch.zeros(new Shape()).add(base.bias());
                NDArray flat = l.reshape(outFeatures());
                oneml.tensor.Kernels.assign(base.bias(), (divide ? b.div(flat) : b.mul(flat)).toFloatArray());
            }
        }
    }

    @Override
    public String toString() {
        return "IA3(" + path + ", " + (feedforward ? "scales input " + inFeatures() : "scales output " + outFeatures()) + ", " + inner() + ")";
    }
}
