package oneml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import oneml.tensor.Kernels;

/**
 * AdamW (decoupled weight decay, bias-corrected moments) over named arrays: torch.optim.AdamW with
 * {@code fused=True}, i.e. libtorch's multi-tensor kernel, one pass over parameters, gradients and moments
 * instead of a dozen elementwise operations per parameter. Moments and step counters live in the
 * optimiser's own manager.
 */
final class AdamW implements AutoCloseable {
    private final Map<String, NDArray> parameters;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final NDManager manager;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private final List<NDArray> steps = new ArrayList<>();

    AdamW(Map<String, NDArray> parameters, NDManager parent, double beta1, double beta2, double eps, double weightDecay) {
        this.parameters = parameters;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.manager = parent.newSubManager();
        parameters.forEach((name, p) -> {
            m.put(name, manager.zeros(p.getShape()));
            v.put(name, manager.zeros(p.getShape()));
            steps.add(manager.zeros(new Shape()));
        });
    }

    /** The gradients of every parameter, attached to {@code scratch} (fetching one creates a new handle). */
    Map<String, NDArray> gradients(NDManager scratch) {
        Map<String, NDArray> grads = new LinkedHashMap<>();
        parameters.forEach((name, p) -> {
            NDArray g = p.getGradient();
            g.attach(scratch);
            grads.put(name, g);
        });
        return grads;
    }

    /**
     * One update with learning rate {@code lr} from {@code grads / gradDivisor} (clipping); with a divisor other than
     * 1 the gradients are overwritten with the divided values. {@code zero}: the gradients came from the parameters'
     * own gradient fields, which are then zeroed for the next accumulation.
     */
    void step(Map<String, NDArray> grads, double lr, double gradDivisor, boolean zero) {
        List<NDArray> g = new ArrayList<>(parameters.size());
        parameters.keySet().forEach(name -> g.add(grads.get(name)));
        Kernels.adamW(new ArrayList<>(parameters.values()), g, new ArrayList<>(m.values()), new ArrayList<>(v.values()), steps,
                lr, beta1, beta2, weightDecay, eps, gradDivisor);
        if (zero) {
            zeroGradients();
        }
    }

    void zeroGradients() {
        parameters.values().forEach(p -> JniUtils.zeroGrad((PtNDArray) p));
    }

    /** The first moments (exp_avg), by parameter name; live arrays, not copies. */
    Map<String, NDArray> firstMoments() {
        return m;
    }

    /** The second moments (exp_avg_sq), by parameter name; live arrays, not copies. */
    Map<String, NDArray> secondMoments() {
        return v;
    }

    /** Updates taken so far, per parameter (all equal: every step updates every parameter). */
    Map<String, Float> stepCounts() {
        Map<String, Float> out = new LinkedHashMap<>();
        int i = 0;
        for (String name : parameters.keySet()) {
            out.put(name, steps.get(i++).getFloat());
        }
        return out;
    }

    NDManager manager() {
        return manager;
    }

    /** Puts back saved moments and step counts (a resumed run continues with exactly the state it stopped with). */
    void restore(Map<String, float[]> first, Map<String, float[]> second, Map<String, Float> stepCounts) {
        int i = 0;
        for (String name : parameters.keySet()) {
            Kernels.assign(m.get(name), first.get(name));
            Kernels.assign(v.get(name), second.get(name));
            Kernels.assign(steps.get(i++), new float[] {stepCounts.get(name)});
        }
    }

    /** Bytes held by the moments (two floats per trainable parameter). */
    long stateBytes() {
        long n = 0;
        for (NDArray a : m.values()) {
            n += a.size() * 8;
        }
        return n;
    }

    @Override
    public void close() {
        manager.close();
    }
}
