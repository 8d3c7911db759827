package oneml.peft.prefix;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import oneml.model.ForwardHooks;

/**
 * The forward-pass side of prefix tuning: per layer, keys and values [B, kv_heads, nvt, head_dim] cut from
 * the flat prefix the way PEFT's {@code PeftModelForCausalLM.get_prompt} does:
 * {@code view(B, nvt, layers*2, kv_heads, head_dim).permute([2, 0, 3, 1, 4]).split(2)} gives layer l the
 * slots 2l (keys) and 2l + 1 (values) of the layers*2 axis. The model puts them in front of every layer's keys
 * and values, shifts the real positions by nvt and caches them for generation. Disabled, the hook adds nothing.
 *
 * <p>The prefix is recomputed on each call, in the step's manager, so the arrays autograd sees always belong
 * to the pass being recorded (gradient checkpointing replays a block under a fresh collector).
 */
final class KeyValuePrefix implements ForwardHooks {
    private final PrefixEncoder encoder;
    private final int nvt;
    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private volatile boolean enabled = true;

    KeyValuePrefix(PrefixEncoder encoder, int nvt, int layers, int kvHeads, int headDim) {
        this.encoder = encoder;
        this.nvt = nvt;
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
    }

    void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    @Override
    public NDList keyValuePrefix(int layer, long batch, NDManager manager) {
        if (!enabled) {
            return null;
        }
        NDArray slots = encoder.prefix(manager).reshape(nvt, 2L * layers, kvHeads, headDim);
        return new NDList(perBatch(slots, 2 * layer, batch, manager), perBatch(slots, 2 * layer + 1, batch, manager));
    }

    /** Slot {@code slot} of [nvt, layers*2, kv, d] as [B, kv, nvt, d] (the batch shares one prefix). */
    private NDArray perBatch(NDArray slots, int slot, long batch, NDManager manager) {
        NDArray one = slots.get(new NDIndex(":, {}", slot)).transpose(1, 0, 2);
        return manager.zeros(new Shape(batch, kvHeads, nvt, headDim), slots.getDataType()).add(one);
    }

    @Override
    public int prefixLength() {
        return enabled ? nvt : 0;
    }
}
