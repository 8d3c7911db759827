package oneml.sweep;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import oneml.PeftConfig;
import oneml.compare.Candidate;
import oneml.io.JsonFields;
import oneml.sweep.Fields.Field;

/**
 * One point of a sweep: a method with every config and training field resolved, and a seed. Immutable; its {@code id}
 * is derived from its settings (and the sweep's model, data and scoring), so the same trial has the same id in every
 * plan and its results file ({@code trials/<id>.json}) is found again when a sweep is started anew.
 *
 * @param name     the space it came from (the method's name unless the space was named)
 * @param config   every config field of the method (defaults included), as the built config holds them
 * @param training learningRate, steps, batchSize, gradientCheckpointing, warmupSteps, weightDecay, maxGradNorm
 * @param problem  why the trial cannot run, found while planning (a combination its config refuses), or null; such a
 *                 trial becomes a FAILED row without running
 */
public record Trial(String id, String name, String method, Map<String, Object> config, Map<String, Object> training, long seed, String problem) {

    public Trial {
        config = Collections.unmodifiableMap(new LinkedHashMap<>(config));
        training = Collections.unmodifiableMap(new LinkedHashMap<>(training));
    }

    /**
     * The trial of {@code method} at {@code point} (swept values, normal form) with {@code seed}: config fields go
     * through the method's builder and are read back whole, training fields fill in over the defaults.
     */
    static Trial of(Setup setup, String name, String method, Map<String, Object> point, int steps, int batchSize, long seed) {
        Map<String, Object> configValues = new LinkedHashMap<>();
        Map<String, Object> training = Fields.trainingDefaults(method, steps, batchSize);
        point.forEach((k, v) -> {
            if (Fields.isTraining(k)) {
                training.put(k, v);
            } else {
                configValues.put(k, v);
            }
        });
        Map<String, Object> config;
        String problem = null;
        try {
            config = Fields.read(method, Fields.build(method, configValues));
        } catch (IllegalArgumentException e) {
            config = configValues; // what was asked for; the row says why it cannot run
            problem = e.getMessage();
        }
        return new Trial(idOf(setup, method, config, training, seed), name, method, config, training, seed, problem);
    }

    /** The method name and the first 12 hex digits of a SHA-256 over everything the trial's numbers depend on. */
    static String idOf(Setup setup, String method, Map<String, Object> config, Map<String, Object> training, long seed) {
        JsonObject o = new JsonObject();
        o.add("setup", setup.identity());
        o.addProperty("method", method);
        o.add("config", GSON.toJsonTree(new TreeMap<>(config)));
        o.add("training", GSON.toJsonTree(new TreeMap<>(training)));
        o.addProperty("seed", seed);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(GSON.toJson(o).getBytes(StandardCharsets.UTF_8));
            return method + "-" + HexFormat.of().formatHex(digest).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java has no SHA-256", e);
        }
    }

    private static final Gson GSON = new Gson();

    /** The method's config (null for full fine-tuning). */
    public PeftConfig peftConfig() {
        if (problem != null) {
            throw new IllegalStateException(id + " cannot run: " + problem);
        }
        return Fields.build(method, config);
    }

    public double learningRate() { return ((Number) training.get("learningRate")).doubleValue(); }
    public int steps() { return ((Number) training.get("steps")).intValue(); }
    public int batchSize() { return ((Number) training.get("batchSize")).intValue(); }
    public boolean gradientCheckpointing() { return (Boolean) training.get("gradientCheckpointing"); }

    /** The comparison entry this trial trains: its config and learning rate, named after its space. */
    public Candidate candidate() {
        PeftConfig c = peftConfig();
        return c == null ? new Candidate(name, null, learningRate()) : Candidate.of(name, c, learningRate());
    }

    /** "lora r=16 alpha=16 ... lr=0.005 steps=60 seed=42": the fields in one line. */
    public String describe() {
        String fields = config.entrySet().stream().map(e -> e.getKey() + "=" + show(e.getValue())).collect(Collectors.joining(" "));
        return name + (fields.isEmpty() ? "" : " " + fields) + String.format(Locale.ROOT, " lr=%s steps=%d batch=%d%s seed=%d",
                show(learningRate()), steps(), batchSize(), gradientCheckpointing() ? " checkpointing" : "", seed);
    }

    static String show(Object v) {
        if (v instanceof Double d) {
            return Fields.fmt(d);
        }
        if (v instanceof List<?> l) {
            return l.isEmpty() ? "<default>" : String.join(",", l.stream().map(String::valueOf).toList());
        }
        return String.valueOf(v);
    }

    JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("name", name);
        o.addProperty("method", method);
        o.addProperty("seed", seed);
        o.add("config", GSON.toJsonTree(config));
        o.add("training", GSON.toJsonTree(training));
        if (problem != null) {
            o.addProperty("problem", problem);
        }
        return o;
    }

    static Trial fromJson(JsonObject o) {
        String method = Fields.method(JsonFields.string(o, "method", null));
        return new Trial(JsonFields.string(o, "id", null), JsonFields.string(o, "name", method), method,
                values(method, o.getAsJsonObject("config")), values(method, o.getAsJsonObject("training")),
                JsonFields.longValue(o.get("seed"), "field 'seed'"), JsonFields.string(o, "problem", null));
    }

    /** Values read back into normal form by their fields' kinds (a saved [] of module names is the model's default). */
    private static Map<String, Object> values(String method, JsonObject o) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (var e : o.entrySet()) {
            Field f = Fields.field(method, e.getKey());
            JsonElement v = e.getValue();
            String what = "field '" + f.name() + "'";
            m.put(f.name(), switch (f.kind()) {
                case INT -> JsonFields.intValue(v, what);
                case NUMBER -> JsonFields.doubleValue(v, what);
                case BOOL -> {
                    JsonObject one = new JsonObject();
                    one.add(f.name(), v);
                    yield JsonFields.bool(one, f.name(), false);
                }
                case TEXT -> JsonFields.stringValue(v, what);
                case NAMES -> {
                    List<String> names = new ArrayList<>();
                    for (JsonElement n : v.getAsJsonArray()) {
                        names.add(JsonFields.stringValue(n, "each entry of " + what));
                    }
                    yield List.copyOf(names);
                }
            });
        }
        return m;
    }

    @Override
    public String toString() {
        return id + ": " + describe() + (problem == null ? "" : " [cannot run: " + problem + "]");
    }
}
