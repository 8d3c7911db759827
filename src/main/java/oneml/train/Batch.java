package oneml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import oneml.model.CausalLM;

/**
 * A group of examples padded on the right to the longest one. Padding gets label -100; with a causal mask
 * real tokens never attend to the padding after them, so no attention mask is needed.
 */
record Batch(List<TokenizedExample> examples, int length) {

    int supervisedTokens() {
        return examples.stream().mapToInt(TokenizedExample::supervisedTokens).sum();
    }

    /** Tokens the model processes, padding excluded: what throughput counts. */
    int realTokens() {
        return examples.stream().mapToInt(TokenizedExample::length).sum();
    }

    /** ids and labels [B, T] in {@code manager}. */
    NDList toArrays(NDManager manager, long padId) {
        int b = examples.size();
        long[] ids = new long[b * length];
        long[] labels = new long[b * length];
        for (int i = 0; i < b; i++) {
            TokenizedExample e = examples.get(i);
            for (int t = 0; t < length; t++) {
                boolean real = t < e.length();
                ids[i * length + t] = real ? e.ids()[t] : padId;
                labels[i * length + t] = real ? e.labels()[t] : CausalLM.IGNORE;
            }
        }
        NDArray idArray = manager.create(ids, new Shape(b, length));
        NDArray labelArray = manager.create(labels, new Shape(b, length));
        return new NDList(idArray, labelArray);
    }

    /** Consecutive batches of {@code size}, in an order shuffled by {@code random} (null keeps the order). */
    static List<Batch> of(List<TokenizedExample> examples, int size, Random random) {
        List<TokenizedExample> order = new ArrayList<>(examples);
        if (random != null) {
            Collections.shuffle(order, random);
        }
        List<Batch> batches = new ArrayList<>();
        for (int i = 0; i < order.size(); i += size) {
            List<TokenizedExample> part = order.subList(i, Math.min(order.size(), i + size));
            int length = part.stream().mapToInt(TokenizedExample::length).max().orElse(0);
            batches.add(new Batch(List.copyOf(part), length));
        }
        return batches;
    }
}
