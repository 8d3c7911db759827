package oneml.sweep;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import oneml.sweep.Fields.Field;
import oneml.sweep.Fields.Kind;

/**
 * What one method of a sweep varies: a grid over its config and training fields (every combination), or a random
 * sample of {@code n} points over the same grid and over ranges. Fields are named as the config builders name them:
 * <pre>{@code
 * Space.lora().r(4, 8, 16, 32).targetModules(List.of("q_proj", "v_proj"), List.of("q_proj", "k_proj", "v_proj"))
 *             .learningRate(1e-3, 5e-3, 1e-2)
 * Space.of("prefix").grid("numVirtualTokens", 5, 10, 20).logUniform("learningRate", 1e-2, 3e-1).sample(6)
 * }</pre>
 * A field left out keeps the method's comparison preset ({@code oneml.compare.Candidate#preset}); training fields left
 * out take the sweep's steps and batch size. Fields and values are checked by {@link Sweep#plan()}, before anything
 * runs, with the field names that exist in the message.
 */
public final class Space {
    final String method;
    private String name;
    final Map<String, List<Object>> grid = new LinkedHashMap<>();
    final Map<String, double[]> ranges = new LinkedHashMap<>(); // field -> {min, max, log (1) or linear (0)}
    int samples;
    long sampleSeed = 1;

    private Space(String method) {
        this.method = Fields.method(method);
        this.name = this.method;
    }

    /** The space of a method by its short name: full, lora, dora, qlora, ia3, prompt, prefix, adapter. */
    public static Space of(String method) { return new Space(method); }
    public static Space full() { return of("full"); }
    public static Space lora() { return of("lora"); }
    public static Space dora() { return of("dora"); }
    public static Space qlora() { return of("qlora"); }
    public static Space ia3() { return of("ia3"); }
    public static Space prompt() { return of("prompt"); }
    public static Space prefix() { return of("prefix"); }
    public static Space adapter() { return of("adapter"); }

    /** The name rows and {@code best} use for this space (default: the method), e.g. "lora-all-linear". */
    public Space name(String name) {
        if (name == null || name.isBlank() || !name.matches("[A-Za-z0-9_.+-]+")) {
            throw new IllegalArgumentException("a space name is letters, digits and . _ + - only, got \"" + name + "\"");
        }
        this.name = name;
        return this;
    }

    public String name() { return name; }
    public String method() { return method; }

    /**
     * Every value in {@code values} for {@code field} (a grid axis); one value fixes the field. A list of module names is
     * one value: {@code grid("targetModules", List.of("q_proj", "v_proj"), List.of("q_proj", "k_proj", "v_proj"))}.
     */
    public Space grid(String field, Object... values) {
        grid.put(field, new ArrayList<>(Arrays.asList(values)));
        ranges.remove(field);
        return this;
    }

    /** Fixes {@code field} at {@code value} for every trial of this space. */
    public Space set(String field, Object value) {
        return grid(field, value);
    }

    /** With {@link #sample}: values drawn uniformly from [min, max]. */
    public Space uniform(String field, double min, double max) {
        return range(field, min, max, false);
    }

    /** With {@link #sample}: values drawn so that their logarithm is uniform over [log min, log max] (learning rates). */
    public Space logUniform(String field, double min, double max) {
        if (!(min > 0)) {
            throw new IllegalArgumentException("logUniform(\"" + field + "\", ...) needs min > 0, got " + min);
        }
        return range(field, min, max, true);
    }

    private Space range(String field, double min, double max, boolean log) {
        if (!(min <= max) || !Double.isFinite(min) || !Double.isFinite(max)) {
            throw new IllegalArgumentException("the range of '" + field + "' needs finite min <= max, got " + min + ", " + max);
        }
        ranges.put(field, new double[] {min, max, log ? 1 : 0});
        grid.remove(field);
        return this;
    }

    /** Instead of every combination, {@code n} distinct points drawn at random (seeded) from the grid and the ranges. */
    public Space sample(int n) {
        return sample(n, sampleSeed);
    }

    public Space sample(int n, long seed) {
        if (n <= 0) {
            throw new IllegalArgumentException("sample(n) needs n > 0, got " + n);
        }
        this.samples = n;
        this.sampleSeed = seed;
        return this;
    }

    // the fields people sweep most, typed, so a space reads like the config builders
    public Space r(int... values) { return grid("r", boxed(values)); }
    public Space alpha(double... values) { return grid("alpha", boxed(values)); }
    public Space dropout(double... values) { return grid("dropout", boxed(values)); }
    @SafeVarargs
    public final Space targetModules(List<String>... sets) { return grid("targetModules", (Object[]) sets); }
    public Space useRslora(boolean... values) { return grid("useRslora", boxed(values)); }
    public Space useDora(boolean... values) { return grid("useDora", boxed(values)); }
    public Space quantType(String... values) { return grid("quantType", (Object[]) values); }
    public Space numVirtualTokens(int... values) { return grid("numVirtualTokens", boxed(values)); }
    public Space reductionFactor(int... values) { return grid("reductionFactor", boxed(values)); }
    public Space learningRate(double... values) { return grid("learningRate", boxed(values)); }
    public Space steps(int... values) { return grid("steps", boxed(values)); }
    public Space batchSize(int... values) { return grid("batchSize", boxed(values)); }
    public Space gradientCheckpointing(boolean... values) { return grid("gradientCheckpointing", boxed(values)); }

    private static Object[] boxed(int[] v) { return Arrays.stream(v).boxed().toArray(); }
    private static Object[] boxed(double[] v) { return Arrays.stream(v).boxed().toArray(); }
    private static Object[] boxed(boolean[] v) {
        Object[] out = new Object[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    /**
     * The points of this space, each a map from field to value in normal form, validated: unknown fields, empty axes,
     * values of the wrong type or out of range, and ranges without {@link #sample} are errors naming the field.
     */
    List<Map<String, Object>> points() {
        Map<String, List<Object>> axes = new LinkedHashMap<>();
        for (var e : grid.entrySet()) {
            Field f = Fields.field(method, e.getKey());
            if (e.getValue().isEmpty()) {
                throw new IllegalArgumentException(name + ": field '" + f.name() + "' has no values; give at least one");
            }
            List<Object> values = new ArrayList<>();
            for (Object v : e.getValue()) {
                values.add(f.normalise(name, v));
            }
            axes.put(f.name(), values);
        }
        Map<String, Field> rangeFields = new LinkedHashMap<>();
        for (var e : ranges.entrySet()) {
            Field f = Fields.field(method, e.getKey());
            if (f.kind() != Kind.INT && f.kind() != Kind.NUMBER) {
                throw new IllegalArgumentException(name + ": field '" + f.name() + "' is not a number, so it takes a grid of values, not a range");
            }
            f.normalise(name, e.getValue()[0]); // both ends inside the field's range
            f.normalise(name, f.kind() == Kind.INT ? Math.rint(e.getValue()[1]) : e.getValue()[1]);
            rangeFields.put(f.name(), f);
        }
        if (samples == 0) {
            if (!ranges.isEmpty()) {
                throw new IllegalArgumentException(name + ": fields " + ranges.keySet() + " have ranges, which only a random sample can"
                        + " draw from: add .sample(n), or give them a grid of values");
            }
            return product(axes);
        }
        long gridSize = axes.values().stream().mapToLong(List::size).reduce(1, Math::multiplyExact);
        if (ranges.isEmpty() && samples > gridSize) {
            throw new IllegalArgumentException(name + ": sample(" + samples + ") asks for more points than the grid has (" + gridSize
                    + "); run the whole grid instead");
        }
        Random random = new Random(sampleSeed);
        Set<Map<String, Object>> drawn = new LinkedHashSet<>();
        for (int attempt = 0; drawn.size() < samples && attempt < 1000 * samples; attempt++) {
            Map<String, Object> p = new LinkedHashMap<>();
            axes.forEach((k, v) -> p.put(k, v.get(random.nextInt(v.size()))));
            rangeFields.forEach((k, f) -> p.put(k, f.normalise(name, draw(random, ranges.get(k), f.kind() == Kind.INT))));
            drawn.add(p);
        }
        return List.copyOf(drawn);
    }

    /** A draw rounded to 4 significant digits (integers to whole numbers), so trials print and save as written. */
    private static Object draw(Random random, double[] range, boolean integer) {
        double u = random.nextDouble();
        double v = range[2] == 1 ? Math.exp(Math.log(range[0]) + u * (Math.log(range[1]) - Math.log(range[0])))
                : range[0] + u * (range[1] - range[0]);
        if (integer) {
            return Math.rint(v);
        }
        return v == 0 ? 0.0 : new java.math.BigDecimal(v).round(new java.math.MathContext(4)).doubleValue();
    }

    private static List<Map<String, Object>> product(Map<String, List<Object>> axes) {
        List<Map<String, Object>> out = new ArrayList<>();
        out.add(new LinkedHashMap<>());
        for (var axis : axes.entrySet()) {
            List<Map<String, Object>> next = new ArrayList<>();
            for (Map<String, Object> p : out) {
                for (Object v : axis.getValue()) {
                    Map<String, Object> q = new LinkedHashMap<>(p);
                    q.put(axis.getKey(), v);
                    next.add(q);
                }
            }
            out = next;
        }
        return out;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("Space(").append(name);
        if (!name.equals(method)) {
            s.append(" [").append(method).append(']');
        }
        grid.forEach((k, v) -> s.append(", ").append(k).append('=').append(v));
        ranges.forEach((k, v) -> s.append(", ").append(k).append(v[2] == 1 ? "~logU[" : "~U[").append(v[0]).append(", ").append(v[1]).append(']'));
        if (samples > 0) {
            s.append(", sample ").append(samples).append(" (seed ").append(sampleSeed).append(')');
        }
        return s.append(')').toString();
    }
}
