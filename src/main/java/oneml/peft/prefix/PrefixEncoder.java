package oneml.peft.prefix;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * PEFT's PrefixEncoder: the flat prefix [nvt, num_layers * 2 * token_dim], either stored as it is (an
 * {@code Embedding(nvt, layers*2*token_dim)} weight) or computed by {@code Linear(enc, layers*2*token_dim)(tanh(
 * Linear(token_dim, enc)(Embedding(nvt, token_dim))))} when the projection is on.
 *
 * <p>Initialisation follows torch: nn.Embedding draws N(0, 1), nn.Linear draws weight and bias from
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 */
final class PrefixEncoder {
    static final String FLAT = "prompt_embeddings";
    /** In-memory names of the projection's arrays in PEFT's state dict (prompt_encoder.{adapter}.*), adapter name dropped. */
    static final String EMBEDDING = "prompt_encoder.embedding.weight";
    static final String HIDDEN_WEIGHT = "prompt_encoder.transform.0.weight";
    static final String HIDDEN_BIAS = "prompt_encoder.transform.0.bias";
    static final String OUT_WEIGHT = "prompt_encoder.transform.2.weight";
    static final String OUT_BIAS = "prompt_encoder.transform.2.bias";

    private final Map<String, NDArray> parameters = new LinkedHashMap<>();
    private final boolean projects;

    private PrefixEncoder(boolean projects) {
        this.projects = projects;
    }

    /** The stored flat prefix, N(0, 1) from {@code random}, or zeros when {@code fromFile} (a saved prefix will be read into it). */
    static PrefixEncoder flat(NDManager manager, int nvt, long width, Random random, boolean fromFile) {
        PrefixEncoder e = new PrefixEncoder(false);
        e.put(FLAT, manager.create(fromFile ? new float[(int) (nvt * width)] : gaussian(random, nvt * width), new Shape(nvt, width)));
        return e;
    }

    /** The reparameterised prefix: embedding [nvt, tokenDim] and the two-layer MLP up to {@code width}. */
    static PrefixEncoder projected(NDManager manager, int nvt, int tokenDim, int hidden, long width, Random random) {
        PrefixEncoder e = new PrefixEncoder(true);
        e.put(EMBEDDING, manager.create(gaussian(random, (long) nvt * tokenDim), new Shape(nvt, tokenDim)));
        e.put(HIDDEN_WEIGHT, manager.create(uniform(random, (long) hidden * tokenDim, tokenDim), new Shape(hidden, tokenDim)));
        e.put(HIDDEN_BIAS, manager.create(uniform(random, hidden, tokenDim), new Shape(hidden)));
        e.put(OUT_WEIGHT, manager.create(uniform(random, width * hidden, hidden), new Shape(width, hidden)));
        e.put(OUT_BIAS, manager.create(uniform(random, width, hidden), new Shape(width)));
        return e;
    }

    private void put(String key, NDArray value) {
        value.setRequiresGradient(true);
        parameters.put(key, value);
    }

    Map<String, NDArray> parameters() {
        return parameters;
    }

    /** The flat prefix [nvt, layers*2*token_dim] as a new array of {@code scope} (copied in, or computed there). */
    NDArray prefix(NDManager scope) {
        if (!projects) {
            return scope.zeros(new Shape()).add(parameters.get(FLAT));
        }
        NDArray tokens = scope.zeros(new Shape()).add(parameters.get(EMBEDDING));
        NDArray hidden = ai.djl.nn.core.Linear.linear(tokens, parameters.get(HIDDEN_WEIGHT), parameters.get(HIDDEN_BIAS)).singletonOrThrow().tanh();
        return ai.djl.nn.core.Linear.linear(hidden, parameters.get(OUT_WEIGHT), parameters.get(OUT_BIAS)).singletonOrThrow();
    }

    private static float[] gaussian(Random random, long n) {
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static float[] uniform(Random random, long n, long fanIn) {
        double bound = 1.0 / Math.sqrt(fanIn);
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
        return v;
    }
}
