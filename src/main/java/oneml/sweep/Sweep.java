package oneml.sweep;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import oneml.io.AtomicFiles;
import oneml.io.BadFileException;
import oneml.io.JsonFields;
import oneml.io.JsonFiles;

/**
 * Hyperparameter and method sweeps: a base model and a dataset, per method a {@link Space} (a grid or a random sample
 * over config and training fields), times {@link #seeds(int)}:
 * <pre>{@code
 * var sweep = Sweep.tiny("sentiment")
 *         .add(Space.lora().r(4, 8, 16, 32).targetModules(List.of("q_proj", "v_proj"), List.of("q_proj", "k_proj", "v_proj"))
 *                          .learningRate(1e-3, 5e-3, 1e-2))
 *         .seeds(3).steps(60);
 * sweep.plan();                      // 72 trials, listed before anything runs
 * SweepResult r = sweep.parallel(2).out(Path.of("out/sweep")).run();
 * r.best("best_val_loss");           // per method, the configuration with the lowest mean over seeds
 * }</pre>
 * Each trial is one training and one evaluation in a child JVM of its own (the local backend), {@code parallel} at a
 * time, its result written to {@code out/trials/<id>.json} as soon as it ends; a sweep started again with the same
 * spec and output folder skips the trials already done. The model and data are named by path or task name (not
 * passed as objects), so that any process can run a trial. The spec saves as JSON ({@link #toJson()}, {@link #load}).
 */
public final class Sweep {
    /** The spec file's keys besides "spaces", for messages. */
    static final List<String> SPEC_KEYS = List.of("model", "data", "seeds", "seed", "steps", "batchSize", "evalEvery", "evalLimit",
            "maxNewTokens", "checkpointEvery", "spaces");
    static final List<String> SPACE_KEYS = List.of("method", "name", "grid", "uniform", "logUniform", "sample", "sampleSeed");

    private final String model;
    private final String data;
    private final List<Space> spaces = new ArrayList<>();
    private int seeds = 1;
    private long seed = 42;
    private int steps = 60;
    private int batchSize = 16;
    private int evalEvery = 20;
    private int evalLimit = 100;
    private int maxNewTokens = 8;
    private int checkpointEvery = 20;
    private int parallel = 1;
    private Path out = Path.of("out", "sweep");
    private boolean quiet;
    private String sparkMaster; // null: the local backend
    private final Map<String, String> sparkConf = new LinkedHashMap<>();

    private Sweep(String model, String data) {
        if (data == null || data.isBlank()) {
            throw new IllegalArgumentException("a sweep needs a dataset: a shipped task (sentiment, facts, topic), a folder or a file");
        }
        this.model = model;
        this.data = data;
    }

    /** A sweep on the embedded default model; {@code data} as {@code --data} takes it (task name, folder or file). */
    public static Sweep tiny(String data) {
        return new Sweep(null, data);
    }

    /** A sweep on the Hugging Face model folder {@code modelDir}. */
    public static Sweep of(Path modelDir, String data) {
        if (!Files.isRegularFile(modelDir.resolve("config.json"))) {
            throw new IllegalArgumentException(modelDir + ": not a model folder (no config.json)");
        }
        return new Sweep(modelDir.toAbsolutePath().normalize().toString(), data);
    }

    /**
     * The built-in example (what {@code ./oneml sweep} runs without {@code --spec}): LoRA's rank against its learning
     * rate on the embedded default and the sentiment task, 2 seeds.
     */
    public static Sweep example() {
        return tiny("sentiment").add(Space.lora().r(4, 16).learningRate(2e-3, 1e-2)).seeds(2).steps(40).evalEvery(20).evalLimit(50);
    }

    public Sweep add(Space... more) {
        spaces.addAll(List.of(more));
        return this;
    }

    /** Each point runs with seeds seed, seed+1, ..., seed+n-1. */
    public Sweep seeds(int n) { this.seeds = positive("seeds", n); return this; }
    /** The first seed (default 42, as {@code Compare}'s). */
    public Sweep seed(long first) { this.seed = first; return this; }
    /** Steps of every trial that does not sweep {@code steps} itself. */
    public Sweep steps(int n) { this.steps = positive("steps", n); return this; }
    public Sweep batchSize(int n) { this.batchSize = positive("batch size", n); return this; }
    /** Validate every n steps (and after the last); 0: only at the end. */
    public Sweep evalEvery(int n) { this.evalEvery = Math.max(0, n); return this; }
    /** Test rows answered by generation for the accuracy column (0: all). */
    public Sweep evalLimit(int rows) { this.evalLimit = Math.max(0, rows); return this; }
    public Sweep maxNewTokens(int n) { this.maxNewTokens = positive("max new tokens", n); return this; }
    /** Resumable checkpoints every n steps (0: none), so a trial run again continues where it stopped. */
    public Sweep checkpointEvery(int n) { this.checkpointEvery = Math.max(0, n); return this; }
    /** Trials at a time (local backend); each gets cores / n threads. */
    public Sweep parallel(int n) { this.parallel = positive("parallel", n); return this; }
    /** Where trials/, runs/, results.json, results.csv and report.html go (default out/sweep). */
    public Sweep out(Path dir) { this.out = dir; return this; }
    /**
     * Runs the trials on Apache Spark instead of child JVMs of this one: {@code local[N]} (N at a time on this machine,
     * nothing to install), {@code spark://HOST:PORT} (a standalone cluster), {@code yarn} or {@code k8s://...}. Each
     * trial is a task that trains in a JVM of its own on an executor's machine, with {@code spark.task.cpus} cores
     * (default 1), one per executor at a time. Executors must read oneml's install, the model and the data at the
     * paths this machine uses (docs: examples/sweeps/README.md). This JVM never loads Spark: a driver JVM does.
     */
    public Sweep spark(String master) {
        SparkBackend.checkMaster(master); // its form now; reachability again when the sweep runs
        this.sparkMaster = master.trim();
        return this;
    }

    /** A Spark setting for the sweep's driver and executors, e.g. ("spark.task.cpus", "2"); needs {@link #spark}. */
    public Sweep sparkConf(String key, String value) {
        if (key == null || !key.startsWith("spark.")) {
            throw new IllegalArgumentException("'" + key + "' is not a Spark setting: they start with 'spark.'");
        }
        sparkConf.put(key, value);
        return this;
    }

    /** Cores of each trial on Spark: {@code spark.task.cpus} if set, else 1. */
    int sparkThreads() {
        String v = sparkConf.getOrDefault("spark.task.cpus", "1");
        try {
            int n = Integer.parseInt(v.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("spark.task.cpus must be a positive whole number, got '" + v + "'");
    }

    /** No progress lines. */
    public Sweep quiet() { this.quiet = true; return this; }

    private static int positive(String what, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + v);
        }
        return v;
    }

    Setup setup() {
        return new Setup(model, data, evalEvery, evalLimit, maxNewTokens, checkpointEvery);
    }

    public Path out() {
        return out;
    }

    /**
     * Every trial, checked: unknown methods or fields, empty grids and values of the wrong type or out of range are
     * errors here, before anything runs, naming the field and the fields that exist. The same settings reached twice
     * (two spaces overlapping) are one trial.
     */
    public SweepPlan plan() {
        if (spaces.isEmpty()) {
            throw new IllegalArgumentException("the sweep has no spaces: add one, e.g. .add(Space.lora().r(4, 8, 16))");
        }
        Set<String> names = new LinkedHashSet<>();
        for (Space s : spaces) {
            if (!names.add(s.name())) {
                throw new IllegalArgumentException("two spaces are named '" + s.name() + "'; give each its own with .name(\"...\")");
            }
        }
        Setup setup = setup();
        Map<String, Trial> trials = new LinkedHashMap<>();
        for (Space s : spaces) {
            for (Map<String, Object> point : s.points()) {
                for (int i = 0; i < seeds; i++) {
                    Trial t = Trial.of(setup, s.name(), s.method, point, steps, batchSize, seed + i);
                    trials.putIfAbsent(t.id(), t);
                }
            }
        }
        return new SweepPlan(List.copyOf(trials.values()), seeds);
    }

    /**
     * Runs the plan's trials that have no final result in {@code out/trials} yet, writes results.json, results.csv and
     * report.html into {@code out}, and returns every trial's result (an interrupt stops after the trials in flight;
     * trials not started are then missing, and a run started again does them).
     */
    public SweepResult run() {
        SweepPlan plan = plan();
        int sparkThreads = sparkMaster == null ? 0 : sparkThreads();
        if (sparkMaster != null) {
            SparkBackend.checkMaster(sparkMaster); // an unreachable cluster is an error before anything is written
        }
        AtomicFiles.writeString(out.resolve("spec.json"), toJson());
        List<Trial> todo = new ArrayList<>();
        Map<String, TrialResult> done = new LinkedHashMap<>();
        for (Trial t : plan.trials()) {
            Path file = LocalBackend.resultFile(out, t);
            if (TrialResult.isFinal(file)) {
                done.put(t.id(), TrialResult.load(file));
            } else {
                todo.add(t);
            }
        }
        List<TrialResult> ran;
        if (sparkMaster == null) {
            say(String.format(Locale.ROOT, "Sweep: %d trials, %d already done in %s, %d to run, %d at a time (%d %s each)", plan.count(), done.size(),
                    out, todo.size(), parallel, LocalBackend.threadsPerTrial(parallel), LocalBackend.threadsPerTrial(parallel) == 1 ? "thread" : "threads"));
            SweepProgress progress = SweepProgress.of(plan.count(), done.values(), parallel, quiet, this::say);
            progress.begin();
            ran = LocalBackend.run(setup(), todo, out, parallel, progress);
            progress.end();
        } else {
            say(String.format(Locale.ROOT, "Sweep: %d trials, %d already done in %s, %d to run on Spark (%s)", plan.count(), done.size(), out,
                    todo.size(), sparkMaster));
            SweepProgress progress = SweepProgress.of(plan.count(), done.values(), SparkBackend.expectedSlots(sparkMaster, sparkThreads, parallel),
                    quiet, this::say);
            progress.begin();
            ran = SparkBackend.run(setup(), todo, out, sparkMaster, sparkThreads, sparkConf, progress);
            progress.end();
        }
        // an interrupt stopped the sweep after the trials in flight; file writes fail while the flag is set (interruptible
        // channels), so it is cleared for writing what was measured and set again for the caller
        boolean interrupted = Thread.interrupted();
        try {
            for (TrialResult r : ran) {
                done.put(r.trial().id(), r);
                if (!r.retryable()) {
                    AtomicFiles.deleteTree(LocalBackend.runDir(out, r.trial()).resolve("checkpoints")); // its work is in the result now
                }
            }
            List<TrialResult> ordered = plan.trials().stream().filter(t -> done.containsKey(t.id())).map(t -> done.get(t.id())).toList();
            SweepResult result = new SweepResult(model == null ? "oneml-tiny" : Path.of(model).getFileName().toString(), data, ordered);
            SweepReport.write(result, out);
            if (interrupted) {
                say((plan.count() - ordered.size()) + " trials did not run; run the sweep again to do them");
            }
            return result;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void say(String line) {
        if (!quiet) {
            System.out.println(line);
        }
    }

    // ---- the spec file ---------------------------------------------------------------------------------------

    /** The spec as JSON, the format {@link #load} reads (docs: examples/sweeps/README.md). */
    public String toJson() {
        JsonObject o = new JsonObject();
        if (model != null) {
            o.addProperty("model", model);
        }
        o.addProperty("data", data);
        o.addProperty("seeds", seeds);
        o.addProperty("seed", seed);
        o.addProperty("steps", steps);
        o.addProperty("batchSize", batchSize);
        o.addProperty("evalEvery", evalEvery);
        o.addProperty("evalLimit", evalLimit);
        o.addProperty("maxNewTokens", maxNewTokens);
        o.addProperty("checkpointEvery", checkpointEvery);
        JsonArray list = new JsonArray();
        var gson = new GsonBuilder().create();
        for (Space s : spaces) {
            JsonObject j = new JsonObject();
            j.addProperty("method", s.method);
            if (!s.name().equals(s.method)) {
                j.addProperty("name", s.name());
            }
            if (!s.grid.isEmpty()) {
                j.add("grid", gson.toJsonTree(s.grid));
            }
            JsonObject uniform = new JsonObject();
            JsonObject logUniform = new JsonObject();
            s.ranges.forEach((k, v) -> (v[2] == 1 ? logUniform : uniform).add(k, gson.toJsonTree(new double[] {v[0], v[1]})));
            if (uniform.size() > 0) {
                j.add("uniform", uniform);
            }
            if (logUniform.size() > 0) {
                j.add("logUniform", logUniform);
            }
            if (s.samples > 0) {
                j.addProperty("sample", s.samples);
                j.addProperty("sampleSeed", s.sampleSeed);
            }
            list.add(j);
        }
        o.add("spaces", list);
        return new GsonBuilder().setPrettyPrinting().create().toJson(o);
    }

    /** Reads a spec file; a key or value it does not know is an error naming the file, the key and the keys that exist. */
    public static Sweep load(Path file) {
        JsonObject o = JsonFiles.readObject(file, "sweep spec", JsonFiles.SMALL_FILE_BYTES);
        try {
            return fromJson(o, file.toAbsolutePath().getParent());
        } catch (BadFileException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new BadFileException(file, e.getMessage() + "; the format is described in examples/sweeps/README.md");
        }
    }

    static Sweep fromJson(JsonObject o, Path base) {
        unknownKeys(o, SPEC_KEYS, "the spec");
        String model = JsonFields.string(o, "model", null);
        String data = JsonFields.string(o, "data", "sentiment");
        Sweep s;
        if (model == null) {
            s = tiny(data);
        } else {
            Path m = Path.of(model);
            s = of(m.isAbsolute() || base == null || Files.isDirectory(m) ? m : base.resolve(m), data);
        }
        s.seeds(JsonFields.integer(o, "seeds", 1)).steps(JsonFields.integer(o, "steps", s.steps)).batchSize(JsonFields.integer(o, "batchSize", s.batchSize))
                .evalEvery(JsonFields.integer(o, "evalEvery", s.evalEvery)).evalLimit(JsonFields.integer(o, "evalLimit", s.evalLimit))
                .maxNewTokens(JsonFields.integer(o, "maxNewTokens", s.maxNewTokens))
                .checkpointEvery(JsonFields.integer(o, "checkpointEvery", s.checkpointEvery));
        if (JsonFields.has(o, "seed")) {
            s.seed(JsonFields.longValue(o.get("seed"), "field 'seed'"));
        }
        if (!o.has("spaces") || !o.get("spaces").isJsonArray() || o.getAsJsonArray("spaces").isEmpty()) {
            throw new IllegalArgumentException("the spec needs \"spaces\": a list of at least one {\"method\": ..., \"grid\": {...}}");
        }
        int i = 0;
        for (JsonElement e : o.getAsJsonArray("spaces")) {
            i++;
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException("spaces entry " + i + " must be an object such as {\"method\": \"lora\", \"grid\": {\"r\": [4, 8]}}");
            }
            s.add(space(e.getAsJsonObject(), i));
        }
        return s;
    }

    private static Space space(JsonObject j, int i) {
        unknownKeys(j, SPACE_KEYS, "spaces entry " + i);
        if (!JsonFields.has(j, "method")) {
            throw new IllegalArgumentException("spaces entry " + i + " has no \"method\"; one of " + Fields.CONFIG.keySet());
        }
        Space s = Space.of(JsonFields.string(j, "method", null));
        if (JsonFields.has(j, "name")) {
            s.name(JsonFields.string(j, "name", null));
        }
        for (var e : object(j, "grid", i).entrySet()) {
            List<Object> values = new ArrayList<>();
            if (e.getValue().isJsonArray()) {
                for (JsonElement v : e.getValue().getAsJsonArray()) {
                    values.add(value(v));
                }
            } else {
                values.add(value(e.getValue())); // a single value fixes the field
            }
            s.grid(e.getKey(), values.toArray());
        }
        for (String kind : List.of("uniform", "logUniform")) {
            for (var e : object(j, kind, i).entrySet()) {
                JsonElement r = e.getValue();
                if (!r.isJsonArray() || r.getAsJsonArray().size() != 2) {
                    throw new IllegalArgumentException("spaces entry " + i + ": " + kind + " '" + e.getKey() + "' must be [min, max], got "
                            + JsonFields.show(r));
                }
                double lo = JsonFields.doubleValue(r.getAsJsonArray().get(0), kind + " '" + e.getKey() + "' min");
                double hi = JsonFields.doubleValue(r.getAsJsonArray().get(1), kind + " '" + e.getKey() + "' max");
                if (kind.equals("uniform")) {
                    s.uniform(e.getKey(), lo, hi);
                } else {
                    s.logUniform(e.getKey(), lo, hi);
                }
            }
        }
        if (JsonFields.has(j, "sample")) {
            s.sample(JsonFields.integer(j, "sample"), JsonFields.has(j, "sampleSeed") ? JsonFields.longValue(j.get("sampleSeed"), "field 'sampleSeed'") : 1);
        }
        return s;
    }

    private static JsonObject object(JsonObject j, String key, int i) {
        if (!JsonFields.has(j, key)) {
            return new JsonObject();
        }
        if (!j.get(key).isJsonObject()) {
            throw new IllegalArgumentException("spaces entry " + i + ": \"" + key + "\" must be an object of field: values, got "
                    + JsonFields.show(j.get(key)));
        }
        return j.getAsJsonObject(key);
    }

    /** A JSON value as a Java one: numbers, strings, booleans, lists of strings (module names); the fields check the rest. */
    private static Object value(JsonElement v) {
        if (v instanceof JsonPrimitive p) {
            if (p.isBoolean()) {
                return p.getAsBoolean();
            }
            if (p.isNumber()) {
                return p.getAsDouble();
            }
            return p.getAsString();
        }
        if (v.isJsonArray()) {
            List<Object> names = new ArrayList<>();
            v.getAsJsonArray().forEach(n -> names.add(n instanceof JsonPrimitive p && p.isString() ? p.getAsString() : n)); // the field refuses non-names
            return names;
        }
        return v; // an object: the field refuses it, showing it
    }

    private static void unknownKeys(JsonObject o, List<String> known, String where) {
        for (String k : o.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException(where + " has an unknown key \"" + k + "\"; the keys are " + known);
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "Sweep(%s on %s, %d steps, batch %d, %d %s from %d, %s)", data,
                model == null ? "oneml-tiny" : model, steps, batchSize, seeds, seeds == 1 ? "seed" : "seeds", seed,
                sparkMaster == null ? parallel + " at a time locally" : "on Spark " + sparkMaster));
        spaces.forEach(sp -> s.append("\n  ").append(sp));
        return s.toString();
    }
}
