package oneml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

/**
 * Keys and values of the positions already processed, per layer, so generation feeds one new token at a
 * time instead of the whole sequence. Arrays live in the cache's own manager and are released on close.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private int length;

    public KvCache(NDManager parent, int numLayers) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[numLayers];
        this.values = new NDArray[numLayers];
    }

    /** Positions held so far; the next token's position. */
    public int length() {
        return length;
    }

    /** Appends this step's [B, kv, T, D] keys and values for a layer and returns the full ones. */
    NDList append(int layer, NDArray k, NDArray v) {
        NDArray fullK = keys[layer] == null ? k : NDArrays.concat(new NDList(keys[layer], k), 2);
        NDArray fullV = values[layer] == null ? v : NDArrays.concat(new NDList(values[layer], v), 2);
        fullK.attach(manager);
        fullV.attach(manager);
        if (keys[layer] != null) {
            keys[layer].close();
            values[layer].close();
        }
        keys[layer] = fullK;
        values[layer] = fullV;
        return new NDList(fullK, fullV);
    }

    /** Called once per forward pass, after the last layer has appended, with the tokens it added. */
    void advance(int tokens) {
        length += tokens;
    }

    @Override
    public void close() {
        manager.close();
    }
}
