package oneml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Random;

/**
 * Autoregressive generation with a KV cache: the prompt runs once, then each new token is a one-position
 * forward pass against the cached keys and values. Stops at the model's end-of-sequence token.
 */
public final class Generator {
    private Generator() {}

    /** The new token ids (without the prompt and without the final end-of-sequence token). */
    public static long[] generate(CausalLM model, long[] prompt, GenerationConfig config) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("generation needs at least one prompt token");
        }
        int limit = model.config().family() == ModelConfig.Family.GPT2 ? model.config().maxPositions() : Integer.MAX_VALUE;
        if (prompt.length >= limit) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens leaves no room in the model's " + limit + " positions");
        }
        Engines.noGradInThisThread();
        Random random = new Random(config.seed());
        long[] out = new long[config.maxNewTokens()];
        int produced = 0;
        try (NDManager step = model.manager().newSubManager(); KvCache cache = new KvCache(step, model.config().numLayers())) {
            NDArray input = step.create(prompt, new Shape(1, prompt.length));
            while (produced < config.maxNewTokens() && cache.length() + input.getShape().get(1) <= limit) {
                long next;
                try (NDManager scope = step.newSubManager()) {
                    input.attach(scope);
                    NDArray logits = model.forward(input, cache);
                    float[] last = logits.get(new NDIndex("0, -1, :")).toFloatArray();
                    next = pick(last, config, random);
                }
                if (next == model.config().eosTokenId()) {
                    break;
                }
                out[produced++] = next;
                input = step.create(new long[] {next}, new Shape(1, 1));
            }
        }
        return Arrays.copyOf(out, produced);
    }

    static long pick(float[] logits, GenerationConfig config, Random random) {
        if (config.temperature() == 0) {
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            return best;
        }
        float cutoff = Float.NEGATIVE_INFINITY;
        if (config.topK() > 0 && config.topK() < logits.length) {
            float[] sorted = logits.clone();
            Arrays.sort(sorted);
            cutoff = sorted[sorted.length - config.topK()];
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] weights = new double[logits.length];
        double total = 0;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] >= cutoff) {
                weights[i] = Math.exp((logits[i] - max) / config.temperature());
                total += weights[i];
            }
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < weights.length; i++) {
            r -= weights[i];
            if (r <= 0 && weights[i] > 0) {
                return i;
            }
        }
        return logits.length - 1;
    }
}
