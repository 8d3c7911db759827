package oneml.peft.adapter;

import ai.djl.ndarray.NDArray;
import oneml.model.ForwardHooks;

/**
 * Where one bottleneck adapter enters the forward pass. Alone, an enabled adapter turns a sub-layer output
 * s into s + A(s). In a live composition the first-named member's hooks compute the whole composition
 * and the other members' hooks stand aside, so each tap is transformed exactly once.
 */
final class AdapterHooks implements ForwardHooks {
    private final BottleneckAdapter adapter;
    private final int lastLayer;
    /** Rows of the replicated batch of this thread's current Parallel forward pass, set where embeddings are made. */
    private final ThreadLocal<Long> parallelRows = new ThreadLocal<>();

    AdapterHooks(BottleneckAdapter adapter, int layers) {
        this.adapter = adapter;
        this.lastLayer = layers - 1;
    }

    @Override
    public NDArray inputEmbeddings(NDArray embeddings) {
        Compose c = adapter.liveComposition();
        if (!(c instanceof Compose.Parallel) || !leads(c)) {
            return embeddings;
        }
        for (BottleneckAdapter member : adapter.members(c)) {
            if (member.training()) {
                throw new IllegalStateException(c + " is for inference (it returns one output per adapter); train each adapter "
                        + "alone with setAdapter(name), then compose");
            }
        }
        int n = c.adapters().size();
        parallelRows.set(embeddings.getShape().get(0) * n);
        return ComposedForward.replicate(embeddings, n);
    }

    @Override
    public NDArray afterAttention(int layer, NDArray attentionOutput) {
        return tap(Tap.ATTENTION, layer, attentionOutput);
    }

    @Override
    public NDArray afterMlp(int layer, NDArray mlpOutput) {
        try {
            return tap(Tap.MLP, layer, mlpOutput);
        } finally {
            if (layer == lastLayer) {
                parallelRows.remove(); // the pass is over; the next one must replicate again
            }
        }
    }

    private NDArray tap(Tap tap, int layer, NDArray s) {
        Compose c = adapter.liveComposition();
        if (c != null) {
            if (!leads(c)) {
                return s;
            }
            Long rows = parallelRows.get();
            return ComposedForward.apply(c, adapter.members(c), tap, layer, s, rows == null ? -1 : rows);
        }
        return adapter.enabled() ? adapter.apply(tap, layer, s) : s;
    }

    private boolean leads(Compose c) {
        return c.adapters().get(0).equals(adapter.name());
    }
}
