package oneml.data;

import java.util.List;
import java.util.Random;

/**
 * Seeded random choices plus the bits of English grammar the templates need.
 *
 * <p>{@link java.util.Random} is used on purpose: its algorithm is fixed by the Java specification,
 * so a seed gives byte-identical datasets on every JVM and platform.
 */
final class Dice {

    private final Random random;

    Dice(long seed) {
        this.random = new Random(seed);
    }

    /** A seed for an independent stream, so adding draws to one generator leaves the others unchanged. */
    static long derive(long seed, int stream) {
        long z = seed + 0x9E3779B97F4A7C15L * (stream + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    <T> T any(List<T> items) {
        return items.get(random.nextInt(items.size()));
    }

    @SafeVarargs
    final <T> T anyOf(T... items) {
        return items[random.nextInt(items.length)];
    }

    /** Uniform in [low, high], both inclusive. */
    int between(int low, int high) {
        return low + random.nextInt(high - low + 1);
    }

    boolean chance(double probability) {
        return random.nextDouble() < probability;
    }

    /** Index drawn with the given relative weights. */
    int weighted(double... weights) {
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        double x = random.nextDouble() * total;
        for (int i = 0; i < weights.length - 1; i++) {
            x -= weights[i];
            if (x < 0) {
                return i;
            }
        }
        return weights.length - 1;
    }

    Random random() {
        return random;
    }

    /** "a cat", "an engineer", "a useful lamp". */
    static String a(String phrase) {
        boolean vowelSound = "aeiou".indexOf(phrase.charAt(0)) >= 0
                && !phrase.startsWith("use") && !phrase.startsWith("uni");
        return (vowelSound ? "an " : "a ") + phrase;
    }
}
