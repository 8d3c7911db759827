package oneml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

/**
 * Keys and values of the positions already processed, per layer, so generation feeds one new token at a
 * time instead of the whole sequence. Arrays live in the cache's own manager and are released on close.
 * A layer with a sliding window keeps only the last {@code window - 1} positions: the next query attends
 * to those and itself, never further back, so the cache stays bounded however long the text grows.
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

    /**
     * Appends this step's [B, kv, T, D] keys and values for a layer and returns the ones this step attends over:
     * the kept ones followed by the new ones. With a sliding {@code window} (0: none) only the last
     * {@code window - 1} positions are kept for later steps; the returned arrays are still whole, as this step's
     * own queries may reach further back than the next one's (the attention mask limits them to the window).
     */
    NDList append(int layer, NDArray k, NDArray v, int window) {
        NDArray fullK = keys[layer] == null ? k : NDArrays.concat(new NDList(keys[layer], k), 2);
        NDArray fullV = values[layer] == null ? v : NDArrays.concat(new NDList(values[layer], v), 2);
        long length = fullK.getShape().get(2);
        NDArray keptK = fullK;
        NDArray keptV = fullV;
        if (window > 0 && length > window - 1) {
            keptK = window == 1 ? null : lastPositions(fullK, window - 1);
            keptV = window == 1 ? null : lastPositions(fullV, window - 1);
            if (fullK != k) { // a concatenation made in the cache's manager: this step's only, freed with it
                fullK.attach(k.getManager());
                fullV.attach(v.getManager());
            }
        }
        if (keys[layer] != null) {
            keys[layer].close();
            values[layer].close();
        }
        if (keptK != null) {
            keptK.attach(manager);
            keptV.attach(manager);
        }
        keys[layer] = keptK;
        values[layer] = keptV;
        return new NDList(fullK, fullV);
    }

    /** A copy (not a view, which would keep the whole array alive) of the last {@code n} positions of [B, kv, S, D]. */
    private static NDArray lastPositions(NDArray a, long n) {
        try (NDArray view = a.get(new NDIndex(":, :, {}:", a.getShape().get(2) - n))) {
            return view.duplicate();
        }
    }

    /** Key positions a layer holds now (at most the window less one for a sliding-window layer). */
    public int keptPositions(int layer) {
        return keys[layer] == null ? 0 : (int) keys[layer].getShape().get(2);
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
