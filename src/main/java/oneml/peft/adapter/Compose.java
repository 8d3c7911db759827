package oneml.peft.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import oneml.peft.Adapter;
import oneml.peft.PeftModel;

/**
 * Several bottleneck adapters of one model running together, AdapterHub's composition blocks:
 * <pre>
 *   model.compose(Compose.average("sentiment", "topic"));                   // one model, both skills
 *   model.compose(Compose.average("sentiment", "topic").withWeights(3, 1));
 *   model.compose(Compose.stack("language", "task"));                       // MAD-X style
 *   var both = Compose.parallel("sentiment", "topic");
 *   model.compose(both);
 *   Map&lt;String, NDArray&gt; perTask = both.split(model.forward(ids));     // one forward, two answers
 *   model.setAdapter("sentiment");                                          // back to one adapter
 * </pre>
 * At every tap (after attention, after the MLP) with sub-layer output {@code s} and adapter deltas
 * {@code A_i(s)}; an adapter with no layer at a tap counts as the identity there:
 * <ul>
 *   <li>{@link Stack}: {@code s1 = s + A_1(s)}, {@code s2 = s1 + A_2(s1)}, ... (output of one feeds the next).</li>
 *   <li>{@link Average}: {@code s + sum_i w_i A_i(s)} = {@code sum_i w_i (s + A_i(s))}, the weighted average of the
 *       adapters' outputs, weights normalised to sum 1 (AdapterHub's default {@code normalize_weights}). AdapterHub's
 *       code additionally takes a mean over the weighted stack, i.e. divides by the number of adapters once more;
 *       oneml computes the weighted average its documentation describes. An Average of one adapter is that adapter.</li>
 *   <li>{@link Parallel}: the batch is replicated once per adapter where the embeddings are computed, and replica i
 *       passes through adapter i only. For a causal LM {@code forward(ids [B, T])} therefore returns logits
 *       {@code [n*B, T, vocab]}: rows {@code i*B .. (i+1)*B-1} are what adapter i alone gives (AdapterHub's
 *       {@code repeat(n, 1, 1)} order). {@link Parallel#split} cuts them apart. Parallel is for scoring and
 *       evaluation in one pass: it refuses training, and KV-cached generation cannot use it (generate with one adapter or
 *       an Average).</li>
 * </ul>
 * Training under a composition updates the active adapter only ({@link PeftModel#setAdapter} before
 * {@code compose}), as AdapterHub's {@code train_adapter("task")} with {@code active_adapters = Stack("lang", "task")}.
 * A composition is not saved; each adapter saves in its own folder.
 */
public sealed interface Compose permits Compose.Stack, Compose.Average, Compose.Parallel {

    /** The adapters by name, in order. */
    List<String> adapters();

    static Stack stack(String... adapters) {
        return new Stack(List.of(adapters));
    }

    /** Equal weights; see {@link Average#withWeights}. */
    static Average average(String... adapters) {
        return new Average(List.of(adapters), java.util.Collections.nCopies(adapters.length, 1.0));
    }

    static Parallel parallel(String... adapters) {
        return new Parallel(List.of(adapters));
    }

    /**
     * Checks that every named adapter is a bottleneck adapter of {@code model} and lets their hooks find the
     * composition. {@link PeftModel#compose} calls this; use that.
     */
    default void bind(PeftModel model) {
        List<BottleneckAdapter> members = new ArrayList<>();
        for (String n : adapters()) {
            Adapter a = model.adapter(n); // an unknown name fails here, listing the adapters
            if (!(a instanceof BottleneckAdapter b)) {
                throw new IllegalArgumentException(this + ": adapter '" + n + "' is a " + a.config().label()
                        + "; compositions combine bottleneck adapters (AdapterConfig) only");
            }
            if (b.model() != model.model()) {
                throw new IllegalArgumentException(this + ": adapter '" + n + "' belongs to another base model");
            }
            members.add(b);
        }
        members.forEach(b -> b.bindTo(model));
    }

    /** Stack: each adapter's output is the next adapter's input. */
    record Stack(List<String> adapters) implements Compose {
        public Stack {
            adapters = checkNames("Stack", adapters);
        }

        @Override
        public String toString() {
            return "Stack" + adapters;
        }
    }

    /** Weighted average of the adapters' outputs; the weights are normalised to sum 1 on construction. */
    record Average(List<String> adapters, List<Double> weights) implements Compose {
        public Average {
            adapters = checkNames("Average", adapters);
            if (weights.size() != adapters.size()) {
                throw new IllegalArgumentException("Average of " + adapters + " needs " + adapters.size() + " weights, got " + weights);
            }
            weights = normalised(weights.stream().mapToDouble(Double::doubleValue).toArray());
        }

        /** Weights in the adapters' order, normalised to sum 1 (e.g. 3, 1 gives 0.75, 0.25). */
        public Average withWeights(double... weights) {
            if (weights.length != adapters.size()) {
                throw new IllegalArgumentException("Average of " + adapters + " needs " + adapters.size() + " weights, got " + weights.length);
            }
            return new Average(adapters, java.util.Arrays.stream(weights).boxed().toList());
        }

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder("Average[");
            for (int i = 0; i < adapters.size(); i++) {
                s.append(i == 0 ? "" : ", ").append(adapters.get(i)).append('=')
                        .append(String.format(Locale.ROOT, "%.3g", weights.get(i)));
            }
            return s.append(']').toString();
        }
    }

    /** The batch replicated per adapter; forward returns [n*B, T, vocab]. */
    record Parallel(List<String> adapters) implements Compose {
        public Parallel {
            adapters = checkNames("Parallel", adapters);
        }

        /** Cuts Parallel's [n*B, ...] output into each adapter's [B, ...] part, by adapter name (views of {@code output}). */
        public Map<String, NDArray> split(NDArray output) {
            long rows = output.getShape().get(0);
            int n = adapters.size();
            if (rows % n != 0) {
                throw new IllegalArgumentException("an output of " + rows + " rows is not " + n + " replicas of one batch");
            }
            long per = rows / n;
            Map<String, NDArray> out = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                out.put(adapters.get(i), output.get(new NDIndex("{}:{}", i * per, (i + 1) * per)));
            }
            return out;
        }

        @Override
        public String toString() {
            return "Parallel" + adapters;
        }
    }

    private static List<String> checkNames(String block, List<String> adapters) {
        if (adapters.isEmpty()) {
            throw new IllegalArgumentException(block + " needs at least one adapter name");
        }
        if (new HashSet<>(adapters).size() != adapters.size()) {
            throw new IllegalArgumentException(block + adapters + " names an adapter twice");
        }
        return List.copyOf(adapters);
    }

    private static List<Double> normalised(double[] weights) {
        double sum = 0;
        for (double w : weights) {
            if (!Double.isFinite(w)) {
                throw new IllegalArgumentException("Average weights must be finite numbers, got " + java.util.Arrays.toString(weights));
            }
            sum += w;
        }
        if (Math.abs(sum) < 1e-12) {
            throw new IllegalArgumentException("Average weights " + java.util.Arrays.toString(weights) + " sum to 0 and cannot be normalised");
        }
        List<Double> out = new ArrayList<>();
        for (double w : weights) {
            out.add(w / sum);
        }
        return List.copyOf(out);
    }
}
