package oneml.compare;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import oneml.io.AtomicFiles;
import oneml.io.BadFileException;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The result of comparing methods on one base model and dataset: a row per method ({@link #table()}), the
 * per-step curves ({@link #curves()}, {@link #validationCurves()}), the docs' summary table from measured numbers
 * ({@link #docsTable()}), and where it ran ({@code environment}). Saves as results.json + results.csv and reloads.
 *
 * @param baselineMetric the untrained base model's accuracy on the same test rows
 */
public record Comparison(String model, String dataset, int steps, int testRows, double baselineMetric, List<MethodResult> results,
        Map<String, String> environment) {

    public static final String JSON = "results.json";
    public static final String CSV = "results.csv";

    public Comparison {
        results = List.copyOf(results);
        environment = Map.copyOf(environment);
    }

    /** The result of the method called {@code name}. */
    public MethodResult result(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException(
                "no method '" + name + "' in this comparison; it has " + results.stream().map(MethodResult::name).toList()));
    }

    public Optional<MethodResult> find(String name) {
        return results.stream().filter(r -> r.name().equals(name)).findFirst();
    }

    /** One row per method: what it trains, what it costs, how well it does. Sizes in bytes, memory in MB. */
    public Table table() {
        StringColumn method = StringColumn.create("method");
        StringColumn label = StringColumn.create("config");
        StringColumn status = StringColumn.create("status");
        LongColumn trainable = LongColumn.create("trainable_params");
        DoubleColumn pct = DoubleColumn.create("trainable_pct");
        LongColumn adapter = LongColumn.create("adapter_bytes");
        DoubleColumn bits = DoubleColumn.create("base_bits_per_param");
        DoubleColumn modelMb = DoubleColumn.create("model_mb");
        DoubleColumn peakMb = DoubleColumn.create("peak_mb");
        DoubleColumn seconds = DoubleColumn.create("train_s");
        DoubleColumn tps = DoubleColumn.create("tokens_per_s");
        DoubleColumn others = DoubleColumn.create("other_load_pct");
        DoubleColumn finalLoss = DoubleColumn.create("final_train_loss");
        DoubleColumn bestVal = DoubleColumn.create("best_val_loss");
        DoubleColumn metric = DoubleColumn.create("accuracy");
        DoubleColumn lr = DoubleColumn.create("learning_rate");
        StringColumn message = StringColumn.create("message");
        for (MethodResult r : results) {
            method.append(r.name());
            label.append(r.label());
            status.append(r.status().name().toLowerCase(Locale.ROOT));
            trainable.append(r.trainableParams());
            pct.append(r.trainablePercent());
            adapter.append(r.adapterBytes());
            bits.append(r.baseBitsPerParam());
            modelMb.append(r.modelBytes() / 1e6);
            peakMb.append(r.peakBytes() / 1e6);
            seconds.append(r.trainSeconds());
            tps.append(r.tokensPerSecond());
            others.append(100 * r.otherLoad());
            finalLoss.append(r.finalTrainLoss());
            bestVal.append(r.bestValLoss());
            metric.append(r.metric());
            lr.append(r.learningRate());
            message.append(r.message());
        }
        return Table.create("comparison: " + dataset + " on " + model, method, label, status, trainable, pct, adapter, bits, modelMb,
                peakMb, seconds, tps, others, finalLoss, bestVal, metric, lr, message);
    }

    /**
     * {@link #table()} as a person reads it (report.html, notebooks): thousands separators, sensible decimals, units in
     * the column names, and a * on speeds measured on a busy machine (see {@link #busyNote()}).
     */
    public Table formattedTable() {
        String[] names = {"method", "config", "status", "trainable params", "trainable", "adapter", "base bits/param", "model MB", "peak MB",
                "train s", "tokens/s", "others' CPU", "final train loss", "best val loss", "accuracy", "learning rate"};
        StringColumn[] cols = new StringColumn[names.length];
        for (int i = 0; i < names.length; i++) {
            cols[i] = StringColumn.create(names[i]);
        }
        for (MethodResult r : results) {
            boolean numbers = r.hasNumbers();
            String[] v = {r.name(), r.label(), r.status().name().toLowerCase(Locale.ROOT),
                    numbers ? String.format(Locale.ROOT, "%,d", r.trainableParams()) : "",
                    numbers ? percent(r.trainablePercent()) : "",
                    numbers ? bytes(r.adapterBytes()) : "",
                    numbers ? String.format(Locale.ROOT, "%.3g", r.baseBitsPerParam()) : "",
                    numbers ? String.format(Locale.ROOT, "%,.1f", r.modelBytes() / 1e6) : "",
                    numbers ? String.format(Locale.ROOT, "%,.1f", r.peakBytes() / 1e6) : "",
                    numbers ? String.format(Locale.ROOT, "%,.1f", r.trainSeconds()) : "",
                    numbers ? String.format(Locale.ROOT, "%,.0f%s", r.tokensPerSecond(), r.measuredOnBusyMachine() ? " *" : "") : "",
                    Double.isNaN(r.otherLoad()) ? "" : String.format(Locale.ROOT, "%.0f%%", 100 * r.otherLoad()),
                    numbers ? String.format(Locale.ROOT, "%.4f", r.finalTrainLoss()) : "",
                    numbers ? String.format(Locale.ROOT, "%.4f", r.bestValLoss()) : "",
                    numbers ? String.format(Locale.ROOT, "%.3f", r.metric()) : "",
                    String.format(Locale.ROOT, "%.0e", r.learningRate())};
            for (int i = 0; i < v.length; i++) {
                cols[i].append(v[i]);
            }
        }
        return Table.create("comparison: " + dataset + " on " + model, cols);
    }

    /** Training loss per step of every method, long format: method, step, loss. */
    public Table curves() {
        return longFormat("curves", "loss", false);
    }

    /** Validation loss of every method, long format: method, step, val_loss. */
    public Table validationCurves() {
        return longFormat("validation curves", "val_loss", true);
    }

    private Table longFormat(String name, String column, boolean validation) {
        StringColumn method = StringColumn.create("method");
        DoubleColumn step = DoubleColumn.create("step");
        DoubleColumn value = DoubleColumn.create(column);
        for (MethodResult r : results) {
            Table t = validation ? r.validations() : r.curve();
            for (int i = 0; i < t.rowCount(); i++) {
                method.append(r.name());
                step.append(t.doubleColumn("step").getDouble(i));
                value.append(t.doubleColumn(column).getDouble(i));
            }
        }
        return Table.create(name, method, step, value);
    }

    /**
     * The docs' table (Method / Trainable Params / Best For), with the trainable share as measured here and, beside
     * each claim, the measured figures that bear on it.
     */
    public Table docsTable() {
        StringColumn method = StringColumn.create("Method");
        StringColumn params = StringColumn.create("Trainable Params");
        StringColumn bestFor = StringColumn.create("Best For");
        StringColumn measured = StringColumn.create("Measured here");
        for (MethodResult r : results) {
            if (!r.hasNumbers()) {
                continue;
            }
            MethodFamily family = MethodFamily.of(r.name());
            method.append(family == MethodFamily.OTHER ? r.name() : family.title());
            params.append(percent(r.trainablePercent()));
            bestFor.append(family == MethodFamily.OTHER ? r.label() : family.bestFor());
            measured.append(String.format(Locale.ROOT, "accuracy %.2f, peak %.0f MB, model %.1f MB, %,.0f tok/s%s",
                    r.metric(), r.peakBytes() / 1e6, r.modelBytes() / 1e6, r.tokensPerSecond(), r.measuredOnBusyMachine() ? " *" : ""));
        }
        // "Best For" is the claim as the docs state it; what one seed at untuned learning rates shows is beside it
        return Table.create("PEFT methods, measured on " + dataset + " (one seed, learning rates not tuned)", method, params, bestFor, measured);
    }

    static String percent(double p) {
        if (p >= 99.95) {
            return "100%";
        }
        return p >= 0.1 ? String.format(Locale.ROOT, "%.2f%%", p) : String.format(Locale.ROOT, "%.3f%%", p);
    }

    // ---- files ------------------------------------------------------------------------------------------

    /** Writes results.json (everything, curves included) and results.csv (the table) into {@code dir}, atomically. */
    public void save(Path dir) {
        AtomicFiles.writeString(dir.resolve(JSON), new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create()
                .toJson(toJson()));
        AtomicFiles.writeString(dir.resolve(CSV), table().write().toString("csv"));
    }

    /** Reads a comparison saved by {@link #save(Path)}: a folder holding results.json, or the file itself. */
    public static Comparison load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve(JSON) : path;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": no such file; a saved comparison folder holds " + JSON + " and " + CSV);
        }
        try {
            return fromJson(JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new BadFileException(file, "not a saved comparison (" + e.getMessage() + ")");
        }
    }

    /** Everything as one JSON object (what results.json holds), for files that embed a comparison. */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("model", model);
        o.addProperty("dataset", dataset);
        o.addProperty("steps", steps);
        o.addProperty("test_rows", testRows);
        o.addProperty("baseline_accuracy", baselineMetric);
        JsonObject env = new JsonObject();
        environment.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> env.addProperty(e.getKey(), e.getValue()));
        o.add("environment", env);
        JsonArray rows = new JsonArray();
        for (MethodResult r : results) {
            JsonObject j = new JsonObject();
            j.addProperty("method", r.name());
            j.addProperty("config", r.label());
            j.addProperty("status", r.status().name());
            j.addProperty("message", r.message());
            j.addProperty("learning_rate", r.learningRate());
            j.addProperty("trainable_params", r.trainableParams());
            j.addProperty("all_params", r.allParams());
            j.addProperty("adapter_bytes", r.adapterBytes());
            j.addProperty("base_bits_per_param", r.baseBitsPerParam());
            j.addProperty("model_bytes", r.modelBytes());
            j.addProperty("peak_bytes", r.peakBytes());
            j.addProperty("train_s", r.trainSeconds());
            j.addProperty("tokens_per_s", r.tokensPerSecond());
            j.addProperty("other_load", r.otherLoad());
            j.addProperty("busy_machine", r.measuredOnBusyMachine());
            j.addProperty("steps", r.steps());
            j.addProperty("final_train_loss", r.finalTrainLoss());
            j.addProperty("first_val_loss", r.firstValLoss());
            j.addProperty("best_val_loss", r.bestValLoss());
            j.addProperty("accuracy", r.metric());
            j.add("curve", columns(r.curve(), "step", "loss"));
            j.add("validations", columns(r.validations(), "step", "val_loss"));
            rows.add(j);
        }
        o.add("results", rows);
        return o;
    }

    private static JsonObject columns(Table t, String x, String y) {
        JsonObject o = new JsonObject();
        o.add(x, new Gson().toJsonTree(t.doubleColumn(x).asDoubleArray()));
        o.add(y, new Gson().toJsonTree(t.doubleColumn(y).asDoubleArray()));
        return o;
    }

    /** The comparison {@link #toJson()} wrote. */
    public static Comparison fromJson(JsonObject o) {
        List<MethodResult> results = new ArrayList<>();
        for (JsonElement e : o.getAsJsonArray("results")) {
            JsonObject j = e.getAsJsonObject();
            results.add(new MethodResult(j.get("method").getAsString(), j.get("config").getAsString(),
                    MethodResult.Status.valueOf(j.get("status").getAsString()), j.get("message").getAsString(),
                    num(j, "learning_rate"), j.get("trainable_params").getAsLong(), j.get("all_params").getAsLong(),
                    j.get("adapter_bytes").getAsLong(), num(j, "base_bits_per_param"), j.get("model_bytes").getAsLong(),
                    j.get("peak_bytes").getAsLong(), num(j, "train_s"), num(j, "tokens_per_s"), j.get("steps").getAsInt(),
                    num(j, "final_train_loss"), num(j, "first_val_loss"), num(j, "best_val_loss"), num(j, "accuracy"),
                    table("curve", j.getAsJsonObject("curve"), "step", "loss"),
                    table("validations", j.getAsJsonObject("validations"), "step", "val_loss"), num(j, "other_load")));
        }
        Map<String, String> env = new LinkedHashMap<>();
        o.getAsJsonObject("environment").entrySet().forEach(e -> env.put(e.getKey(), e.getValue().getAsString()));
        return new Comparison(o.get("model").getAsString(), o.get("dataset").getAsString(), o.get("steps").getAsInt(),
                o.get("test_rows").getAsInt(), num(o, "baseline_accuracy"), results, env);
    }

    /** Gson writes NaN as the bare token NaN (serializeSpecialFloatingPointValues) and reads it back. */
    private static double num(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
    }

    private static Table table(String name, JsonObject o, String x, String y) {
        double[] xs = new Gson().fromJson(o.get(x), double[].class);
        double[] ys = new Gson().fromJson(o.get(y), double[].class);
        return Table.create(name, DoubleColumn.create(x, xs), DoubleColumn.create(y, ys));
    }

    /** A text table for the terminal and for JShell. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "Comparison on %s (%s), %d steps each; %s%n", dataset, model, steps,
                Double.isNaN(baselineMetric) ? "accuracy on " + testRows + " test rows"
                        : String.format(Locale.ROOT, "untrained accuracy %.3f on %d test rows", baselineMetric, testRows)));
        s.append(String.format(Locale.ROOT, "%-8s %-22s %-9s %12s %9s %10s %9s %9s %9s  %8s %8s%n", "method", "config", "status", "trainable",
                "train %", "adapter", "model MB", "peak MB", "tok/s", "val loss", "accuracy"));
        for (MethodResult r : results) {
            if (!r.hasNumbers()) {
                s.append(String.format(Locale.ROOT, "%-8s %-22s %-9s %s%n", r.name(), clip(r.label(), 22), r.status().name().toLowerCase(Locale.ROOT),
                        r.message()));
                continue;
            }
            s.append(String.format(Locale.ROOT, "%-8s %-22s %-9s %,12d %9.3f %10s %9.1f %9.1f %,9.0f%s %8.4f %8.3f%n", r.name(), clip(r.label(), 22),
                    r.status().name().toLowerCase(Locale.ROOT), r.trainableParams(), r.trainablePercent(), bytes(r.adapterBytes()),
                    r.modelBytes() / 1e6, r.peakBytes() / 1e6, r.tokensPerSecond(), r.measuredOnBusyMachine() ? "*" : " ", r.bestValLoss(), r.metric()));
        }
        String busy = busyNote();
        if (!busy.isEmpty()) {
            s.append(busy).append('\n');
        }
        return s.toString().stripTrailing();
    }

    /**
     * A footnote for speeds measured while other processes kept the machine busy ("" when none was): such a figure
     * says more about the other processes than about the method.
     */
    public String busyNote() {
        List<String> busy = results.stream().filter(MethodResult::measuredOnBusyMachine)
                .map(r -> String.format(Locale.ROOT, "%s %.0f%%", r.name(), 100 * r.otherLoad())).toList();
        if (busy.isEmpty()) {
            return "";
        }
        return "* measured on a busy machine (other processes used more than " + Math.round(100 * MachineLoad.BUSY)
                + "% of the CPUs: " + String.join(", ", busy) + "); compare speeds from a quiet run, or use ./oneml bench";
    }

    private static String clip(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "…";
    }

    static String bytes(long b) {
        if (b >= 1_000_000) {
            return String.format(Locale.ROOT, "%.1f MB", b / 1e6);
        }
        return String.format(Locale.ROOT, "%.1f kB", b / 1e3);
    }
}
