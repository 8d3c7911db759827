package oneml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Several {@link ForwardHooks} applied in the order they were added; prefixes are concatenated. */
final class HookChain implements ForwardHooks {
    private final List<ForwardHooks> hooks = new CopyOnWriteArrayList<>();

    void add(ForwardHooks h) {
        hooks.add(h);
    }

    void remove(ForwardHooks h) {
        hooks.remove(h);
    }

    @Override
    public NDArray inputEmbeddings(NDArray embeddings) {
        for (ForwardHooks h : hooks) {
            embeddings = h.inputEmbeddings(embeddings);
        }
        return embeddings;
    }

    @Override
    public int virtualTokens() {
        return hooks.stream().mapToInt(ForwardHooks::virtualTokens).sum();
    }

    @Override
    public NDList keyValuePrefix(int layer, long batch, NDManager manager) {
        NDList keys = new NDList();
        NDList values = new NDList();
        for (ForwardHooks h : hooks) {
            NDList kv = h.keyValuePrefix(layer, batch, manager);
            if (kv != null) {
                keys.add(kv.get(0));
                values.add(kv.get(1));
            }
        }
        if (keys.isEmpty()) {
            return null;
        }
        return keys.size() == 1 ? new NDList(keys.get(0), values.get(0))
                : new NDList(NDArrays.concat(keys, 2), NDArrays.concat(values, 2));
    }

    @Override
    public int prefixLength() {
        return hooks.stream().mapToInt(ForwardHooks::prefixLength).sum();
    }

    @Override
    public NDArray afterAttention(int layer, NDArray attentionOutput) {
        for (ForwardHooks h : hooks) {
            attentionOutput = h.afterAttention(layer, attentionOutput);
        }
        return attentionOutput;
    }

    @Override
    public NDArray afterMlp(int layer, NDArray mlpOutput) {
        for (ForwardHooks h : hooks) {
            mlpOutput = h.afterMlp(layer, mlpOutput);
        }
        return mlpOutput;
    }
}
