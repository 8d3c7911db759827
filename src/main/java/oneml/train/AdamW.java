package oneml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (decoupled weight decay, bias-corrected moments) over named arrays, as torch.optim.AdamW.
 * Moments live in the optimiser's own manager; per-step temporaries in the caller's scratch manager.
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
    private int t;

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

    /** One update with learning rate {@code lr}, then the gradients are zeroed for the next accumulation. */
    void step(Map<String, NDArray> grads, double lr, NDManager scratch) {
        t++;
        double c1 = 1 - Math.pow(beta1, t);
        double c2 = 1 - Math.pow(beta2, t);
        for (var e : parameters.entrySet()) {
            String name = e.getKey();
            NDArray p = e.getValue();
            NDArray g = grads.get(name);
            NDArray mt = m.get(name).muli(beta1).addi(g.mul(1 - beta1));
            NDArray vt = v.get(name).muli(beta2).addi(g.square().muli(1 - beta2));
            if (weightDecay > 0) {
                p.muli(1 - lr * weightDecay);
            }
            NDArray denominator = scratch.zeros(new ai.djl.ndarray.types.Shape()).add(vt).divi(c2).sqrt().addi(eps);
            p.subi(scratch.zeros(new ai.djl.ndarray.types.Shape()).add(mt).divi(denominator).muli(lr / c1));
        }
        zeroGradients();
    }

    void zeroGradients() {
        parameters.values().forEach(p -> JniUtils.zeroGrad((PtNDArray) p));
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
