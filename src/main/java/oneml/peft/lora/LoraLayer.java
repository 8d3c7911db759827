package oneml.peft.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import oneml.tensor.Kernels;
import oneml.model.Linear;
import oneml.model.LinearLayer;
import oneml.model.Scalars;
import oneml.model.WrappedLinear;

/**
 * {@code y = inner(x) + s · B(A(dropout(x)))} with A [r, in], B [out, r] and s = alpha / r; with DoRA also
 * a magnitude m [out] that rescales each output row of the updated weight to norm m.
 *
 * <p>DoRA follows PEFT: the norm ||W + s·B·A|| is computed per output row and detached, k = m / norm, and
 * {@code y = inner(x) + (k - 1) · x W^T + k · s · B(A(x))}, which equals the base projection with weight
 * k · (W + s·B·A) (plus bias) without materialising it.
 *
 * <p>Arrays of the step (x and everything derived from it) always come first in an operation, so results
 * land in the step's manager and not in the long-lived one holding A, B and W.
 */
final class LoraLayer extends WrappedLinear {
    private static final org.slf4j.Logger WARNINGS = org.slf4j.LoggerFactory.getLogger(LoraLayer.class);
    final String path;
    final int rank;
    final double scaling;
    final float dropout;
    final NDArray a;
    final NDArray b;
    final NDArray magnitude;
    private boolean enabled = true;
    private boolean training;
    private boolean merged;
    private NDArray doraMergeScale;
    /** s as a 0-d float64 array beside A and B (the kernels take only arrays), freed with them. */
    private final NDArray scalingArray;

    LoraLayer(String path, LinearLayer inner, int rank, double scaling, float dropout, NDArray a, NDArray b, NDArray magnitude) {
        super(inner);
        this.path = path;
        this.rank = rank;
        this.scaling = scaling;
        this.dropout = dropout;
        this.a = a;
        this.b = b;
        this.magnitude = magnitude;
        this.scalingArray = a.getManager().create(scaling);
    }

    @Override
    public NDArray forward(NDArray x) {
        if (!enabled || merged) {
            return innerForward(x);
        }
        boolean dropping = training && dropout > 0;
        NDArray y = innerForward(x); // before this layer's dropout, so stacked layers draw their masks in order
        NDArray xd = dropping ? Dropout.dropout(x, dropout, true).singletonOrThrow() : x;
        if (magnitude == null) {
            return Kernels.loraUpdate(y, xd, a, b, scalingArray);
        }
        // scale the rank-r intermediate, not the [.., out] result: the same product, a far smaller pass
        NDArray update = linear(Scalars.times(linear(xd, a), scaling), b);
        NDArray k = x.getManager().zeros(new Shape()).add(magnitude).div(detachedRowNorm(x.getManager()));
        Linear base = base();
        NDArray baseWithoutBias;
        if (dropping) {
            baseWithoutBias = linear(xd, base.weight(x.getManager()));
        } else {
            baseWithoutBias = base.bias() == null ? y : y.sub(base.bias());
        }
        return y.add(baseWithoutBias.mul(k.sub(1))).add(update.mul(k));
    }

    /** ||W + s·B·A|| per output row, [out], without gradient (DoRA treats it as a constant). */
    private NDArray detachedRowNorm(NDManager local) {
        return updatedWeight(local).norm(new int[] {1}).stopGradient();
    }

    /** W + s·B·A, computed in {@code local}. */
    private NDArray updatedWeight(NDManager local) {
        return delta(local).add(base().weight(local));
    }

    /** s·B·A in {@code local} (B is copied in first so the product is not owned by the model's manager). */
    private NDArray delta(NDManager local) {
        return Scalars.times(local.zeros(new Shape()).add(b).matMul(a), scaling);
    }

    private static NDArray linear(NDArray x, NDArray weight) {
        return ai.djl.nn.core.Linear.linear(x, weight).singletonOrThrow();
    }

    void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    void setTraining(boolean training) {
        this.training = training;
    }

    boolean isMerged() {
        return merged;
    }

    /** W <- W + s·B·A, or for DoRA W <- (m / ||W + s·B·A||) · (W + s·B·A). */
    void merge() {
        if (merged) {
            return;
        }
        Linear base = base();
        if (base.isQuantized()) {
            WARNINGS.warn("Merging the adapter into the 4-bit weights of {}: the sum is quantised again and rounds;"
                    + " unmerge will not restore the original codes exactly. Merge into a float32 copy of the base"
                    + " to ship a precise model.", path);
        }
        try (NDManager scratch = a.getManager().newSubManager()) {
            if (magnitude == null) {
                base.addToWeight(delta(scratch));
            } else {
                NDArray updated = updatedWeight(scratch);
                NDArray scale = scratch.zeros(new Shape()).add(magnitude).div(updated.norm(new int[] {1})).reshape(-1, 1);
                base.setWeight(updated.mul(scale));
                doraMergeScale = scale.duplicate();
                doraMergeScale.attach(a.getManager());
            }
        }
        merged = true;
    }

    void unmerge() {
        if (!merged) {
            return;
        }
        Linear base = base();
        try (NDManager scratch = a.getManager().newSubManager()) {
            if (magnitude == null) {
                base.addToWeight(delta(scratch).neg());
            } else {
                NDArray original = base.weight(scratch).div(doraMergeScale).sub(delta(scratch));
                base.setWeight(original);
                doraMergeScale.close();
                doraMergeScale = null;
            }
        }
        merged = false;
    }

    @Override
    public String toString() {
        return (magnitude != null ? "DoRA" : "LoRA") + "(" + path + ", r=" + rank + ", scaling=" + scaling + ", " + inner() + ")";
    }
}
