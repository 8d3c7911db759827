package oneml.peft.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import java.util.List;
import oneml.model.Scalars;

/** The arithmetic of each {@link Compose} block at one tap; an adapter without a layer there is the identity. */
final class ComposedForward {
    private ComposedForward() {}

    static NDArray apply(Compose composition, List<BottleneckAdapter> members, Tap tap, int layer, NDArray s, long parallelRows) {
        if (composition instanceof Compose.Stack) {
            for (BottleneckAdapter a : members) {
                s = a.apply(tap, layer, s);
            }
            return s;
        }
        if (composition instanceof Compose.Average average) {
            NDArray sum = null;
            for (int i = 0; i < members.size(); i++) {
                NDArray d = members.get(i).delta(tap, layer, s);
                if (d != null) {
                    d = Scalars.times(d, average.weights().get(i));
                    sum = sum == null ? d : sum.add(d);
                }
            }
            // s + sum_i w_i A_i(s), which is sum_i w_i (s + A_i(s)) because the weights sum to 1
            return sum == null ? s : s.add(sum);
        }
        long rows = s.getShape().get(0);
        if (rows != parallelRows) {
            throw new IllegalStateException(composition + " replicates the batch where the embeddings are computed, and this forward "
                    + "pass did not start there (a KV-cached generation step, or prefix tuning in front): use Parallel for plain "
                    + "forward passes, and generate with one adapter (setAdapter) or an Average");
        }
        int n = members.size();
        long per = rows / n;
        NDList parts = new NDList();
        for (int i = 0; i < n; i++) {
            parts.add(members.get(i).apply(tap, layer, s.get(new NDIndex("{}:{}", i * per, (i + 1) * per))));
        }
        return NDArrays.concat(parts, 0);
    }

    /** The batch [B, ...] repeated n times along the batch axis: [x; x; ...], replica i in rows i*B .. (i+1)*B - 1. */
    static NDArray replicate(NDArray x, int n) {
        NDList copies = new NDList();
        for (int i = 0; i < n; i++) {
            copies.add(x);
        }
        return n == 1 ? x : NDArrays.concat(copies, 0);
    }
}
