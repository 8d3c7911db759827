package oneml.model;

/**
 * How to pick new tokens: greedy when {@code temperature} is 0, otherwise sampling from the softmax at that
 * temperature, restricted to the {@code topK} likeliest tokens when topK > 0. Seeded for repeatability.
 */
public record GenerationConfig(int maxNewTokens, double temperature, int topK, long seed) {
    public GenerationConfig {
        if (maxNewTokens <= 0) {
            throw new IllegalArgumentException("maxNewTokens must be positive, got " + maxNewTokens);
        }
        if (temperature < 0) {
            throw new IllegalArgumentException("temperature must be >= 0 (0 means greedy), got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 means no limit), got " + topK);
        }
    }

    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0, 0, 0);
    }

    public static GenerationConfig sampling(int maxNewTokens, double temperature, int topK, long seed) {
        return new GenerationConfig(maxNewTokens, temperature, topK, seed);
    }
}
