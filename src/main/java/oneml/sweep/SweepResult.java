package oneml.sweep;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import oneml.compare.Comparison;
import oneml.compare.MethodResult;
import oneml.io.AtomicFiles;
import oneml.io.BadFileException;
import oneml.io.JsonFields;
import oneml.io.JsonFiles;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.internal.chartpart.Chart;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

/**
 * A sweep's results: one row per trial ({@link #table()}), the mean, standard deviation and count over seeds of each
 * configuration ({@link #aggregates()}), each space's best configuration by a metric ({@link #best(String)}), and a
 * {@link Comparison} of those ({@link #toComparison(String)}) for the comparison charts and report. Saves as
 * results.json (every trial whole, curves included) and results.csv (the table), and reloads.
 */
public record SweepResult(String model, String data, List<TrialResult> trials) {
    public static final String JSON = "results.json";
    public static final String CSV = "results.csv";

    /** The metrics {@link #aggregates()} summarises and {@link #best(String)} ranks by. */
    public static final List<String> METRICS = List.of("best_val_loss", "final_train_loss", "accuracy", "tokens_per_s", "peak_mb", "train_s");

    public SweepResult {
        trials = List.copyOf(trials);
    }

    /** The result of the trial with this id. */
    public TrialResult trial(String id) {
        return trials.stream().filter(t -> t.trial().id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no trial '" + id + "' in this sweep's results"));
    }

    public long failedCount() {
        return trials.stream().filter(t -> t.status() == TrialResult.Status.FAILED).count();
    }

    /** A metric of one trial (NaN when it has no numbers). */
    static double metric(TrialResult t, String metric) {
        MethodResult r = t.result();
        if (t.status() != TrialResult.Status.OK) {
            return Double.NaN;
        }
        return switch (metric) {
            case "best_val_loss" -> r.bestValLoss();
            case "final_train_loss" -> r.finalTrainLoss();
            case "accuracy" -> r.metric();
            case "tokens_per_s" -> r.tokensPerSecond();
            case "peak_mb" -> r.peakBytes() / 1e6;
            case "train_s" -> r.trainSeconds();
            default -> throw new IllegalArgumentException("unknown metric '" + metric + "'; choose from " + METRICS);
        };
    }

    /** Whether a higher value of {@code metric} is better (accuracy, speed) or a lower one (losses, memory, time). */
    static boolean higherIsBetter(String metric) {
        metricIndex(metric);
        return metric.equals("accuracy") || metric.equals("tokens_per_s");
    }

    private static int metricIndex(String metric) {
        int i = METRICS.indexOf(metric);
        if (i < 0) {
            throw new IllegalArgumentException("unknown metric '" + metric + "'; choose from " + METRICS);
        }
        return i;
    }

    /** One row per trial: its id, space, method, seed, every field, status and reason, and what it measured. */
    public Table table() {
        List<Trial> ts = trials.stream().map(TrialResult::trial).toList();
        StringColumn id = StringColumn.create("trial");
        LongColumn seed = LongColumn.create("seed");
        StringColumn status = StringColumn.create("status");
        StringColumn message = StringColumn.create("message");
        LongColumn trainable = LongColumn.create("trainable_params");
        DoubleColumn[] metrics = new DoubleColumn[METRICS.size()];
        for (int i = 0; i < metrics.length; i++) {
            metrics[i] = DoubleColumn.create(METRICS.get(i));
        }
        DoubleColumn others = DoubleColumn.create("other_load_pct");
        DoubleColumn wall = DoubleColumn.create("wall_s");
        StringColumn host = StringColumn.create("host");
        LongColumn pid = LongColumn.create("pid");
        for (TrialResult t : trials) {
            id.append(t.trial().id());
            seed.append(t.trial().seed());
            status.append(t.status().name());
            message.append(t.message());
            trainable.append(t.result().trainableParams());
            for (int i = 0; i < metrics.length; i++) {
                metrics[i].append(metric(t, METRICS.get(i)));
            }
            others.append(100 * t.result().otherLoad());
            wall.append(t.wallSeconds());
            host.append(t.host());
            pid.append(t.pid());
        }
        Table table = Table.create("sweep: " + data + " on " + model, id);
        fieldColumns(ts).forEach(table::addColumns);
        table.addColumns(seed, status, message, trainable);
        table.addColumns(metrics);
        return table.addColumns(others, wall, host, pid);
    }

    /** name, method, then every field: numbers as number columns (NaN where a method lacks the field), others as text. */
    private static List<Column<?>> fieldColumns(List<Trial> ts) {
        Set<String> fields = new LinkedHashSet<>();
        ts.forEach(t -> {
            fields.addAll(t.config().keySet());
            fields.addAll(t.training().keySet());
        });
        List<Column<?>> out = new ArrayList<>();
        out.add(StringColumn.create("name", ts.stream().map(Trial::name).toList()));
        out.add(StringColumn.create("method", ts.stream().map(Trial::method).toList()));
        for (String f : fields) {
            List<Object> values = ts.stream().map(t -> t.config().containsKey(f) ? t.config().get(f) : t.training().get(f)).toList();
            if (values.stream().allMatch(v -> v == null || v instanceof Number)) {
                DoubleColumn c = DoubleColumn.create(f);
                values.forEach(v -> c.append(v == null ? Double.NaN : ((Number) v).doubleValue()));
                out.add(c);
            } else {
                StringColumn c = StringColumn.create(f);
                values.forEach(v -> c.append(v == null ? "" : Trial.show(v)));
                out.add(c);
            }
        }
        return out;
    }

    /** The trials of one configuration (every field equal, the seed aside), in plan order. */
    record Group(String key, List<TrialResult> trials) {
        Trial first() {
            return trials.get(0).trial();
        }

        List<TrialResult> ok() {
            return trials.stream().filter(t -> t.status() == TrialResult.Status.OK).toList();
        }

        double mean(String metric) {
            return ok().stream().mapToDouble(t -> metric(t, metric)).filter(v -> !Double.isNaN(v)).average().orElse(Double.NaN);
        }

        /** The sample standard deviation over seeds (NaN with fewer than two). */
        double std(String metric) {
            double[] v = ok().stream().mapToDouble(t -> metric(t, metric)).filter(x -> !Double.isNaN(x)).toArray();
            if (v.length < 2) {
                return Double.NaN;
            }
            double m = java.util.Arrays.stream(v).average().orElseThrow();
            return Math.sqrt(java.util.Arrays.stream(v).map(x -> (x - m) * (x - m)).sum() / (v.length - 1));
        }

        /** "lora r=16 alpha=16 ... lr=0.01 steps=40 batch=16": the configuration without its seed. */
        String label() {
            return first().describe().replaceFirst(" seed=-?\\d+$", "");
        }
    }

    List<Group> groups() {
        Map<String, List<TrialResult>> m = new LinkedHashMap<>();
        for (TrialResult t : trials) {
            Trial x = t.trial();
            String key = x.name() + " " + new TreeMap<>(x.config()) + " " + new TreeMap<>(x.training());
            m.computeIfAbsent(key, k -> new ArrayList<>()).add(t);
        }
        return m.entrySet().stream().map(e -> new Group(e.getKey(), e.getValue())).toList();
    }

    /** One row per configuration: its fields, how many trials ran and failed, and each metric's mean and std over seeds. */
    public Table aggregates() {
        return aggregateTable("sweep aggregates over seeds: " + data + " on " + model, groups());
    }

    private static Table aggregateTable(String title, List<Group> groups) {
        Table table = Table.create(title);
        fieldColumns(groups.stream().map(Group::first).toList()).forEach(table::addColumns);
        IntColumn n = IntColumn.create("n");
        IntColumn failed = IntColumn.create("failed");
        List<DoubleColumn> stats = new ArrayList<>();
        for (String metric : METRICS) {
            stats.add(DoubleColumn.create(metric + "_mean"));
            stats.add(DoubleColumn.create(metric + "_std"));
        }
        for (Group g : groups) {
            n.append(g.ok().size());
            failed.append(g.trials().size() - g.ok().size());
            for (int i = 0; i < METRICS.size(); i++) {
                stats.get(2 * i).append(g.mean(METRICS.get(i)));
                stats.get(2 * i + 1).append(g.std(METRICS.get(i)));
            }
        }
        table.addColumns(n, failed);
        stats.forEach(table::addColumns);
        return table;
    }

    /** Per space, the configuration whose mean {@code metric} over seeds is best (lowest loss, highest accuracy or speed). */
    public Table best(String metric) {
        return aggregateTable("best configuration per method by " + metric + ": " + data + " on " + model, bestGroups(metric));
    }

    List<Group> bestGroups(String metric) {
        boolean higher = higherIsBetter(metric);
        Map<String, Group> best = new LinkedHashMap<>();
        for (Group g : groups()) {
            double v = g.mean(metric);
            if (Double.isNaN(v)) {
                continue;
            }
            Group current = best.get(g.first().name());
            if (current == null || (higher ? v > current.mean(metric) : v < current.mean(metric))) {
                best.put(g.first().name(), g);
            }
        }
        return List.copyOf(best.values());
    }

    /**
     * A comparison of each space's best configuration by {@code metric}, for {@code oneml.viz}'s charts and report: each
     * row is that configuration's first successful seed, named after its space and labelled with its fields.
     */
    public Comparison toComparison(String metric) {
        List<MethodResult> rows = new ArrayList<>();
        int steps = 0;
        for (Group g : bestGroups(metric)) {
            TrialResult t = g.ok().stream().min(Comparator.comparingLong(x -> x.trial().seed())).orElseThrow();
            MethodResult r = t.result();
            steps = Math.max(steps, t.trial().steps());
            rows.add(new MethodResult(t.trial().name(), g.label(), r.status(), r.message(), r.learningRate(), r.trainableParams(), r.allParams(),
                    r.adapterBytes(), r.baseBitsPerParam(), r.modelBytes(), r.peakBytes(), r.trainSeconds(), r.tokensPerSecond(), r.steps(),
                    r.finalTrainLoss(), r.firstValLoss(), r.bestValLoss(), r.metric(), r.curve(), r.validations(), r.otherLoad()));
        }
        Map<String, String> env = new LinkedHashMap<>();
        env.put("sweep", trials.size() + " trials, best by " + metric);
        return new Comparison(model, data, steps, 0, Double.NaN, rows, env);
    }

    // ---- charts (oneml.viz.SweepCharts) ---------------------------------------------------------------------

    /** The fields that take more than one value within some space (the seed aside), in table order. */
    public List<String> sweptFields() {
        return ResultCharts.swept(this);
    }

    /**
     * {@code metric} against {@code field}: one line per space (split by the other fields that vary in it), each point
     * the mean over seeds with one standard deviation as error bars, n in the legend; a log x axis when every value is
     * above zero and the largest is at least 4 times the smallest (r in 4..32, learning rates).
     * {@code metric}: one of {@link #METRICS} or trainable_params; {@code field}: a number field of the trials.
     */
    public XYChart chart(String metric, String field) {
        return ResultCharts.chart(this, metric, field);
    }

    /** {@link #chart(String, String)} with the x axis logarithmic or not as asked. */
    public XYChart chart(String metric, String field, boolean logX) {
        return ResultCharts.chart(this, metric, field, logX);
    }

    /**
     * {@code metric}'s mean over seeds for each pair of {@code fieldX} and {@code fieldY} values (numbers or not), the
     * means written in the cells, for the one space that sweeps both (several: name it with
     * {@link #heatmap(String, String, String, String)}).
     */
    public HeatMapChart heatmap(String metric, String fieldX, String fieldY) {
        return ResultCharts.heatmap(this, metric, fieldX, fieldY);
    }

    /** The heatmap of the space named {@code name}; other fields it varies are pooled, and the title says so. */
    public HeatMapChart heatmap(String name, String metric, String fieldX, String fieldY) {
        return ResultCharts.heatmap(this, name, metric, fieldX, fieldY);
    }

    /**
     * Every trial as a point, {@code quality} (best_val_loss, final_train_loss or accuracy) against {@code cost}
     * (trainable_params, peak_mb or train_s), one colour per space, the trials no other beats on both marked and joined.
     */
    public XYChart pareto(String cost, String quality) {
        return ResultCharts.pareto(this, cost, quality);
    }

    /**
     * The charts that make sense for this sweep, by file name, as the report shows them: best_val_loss and accuracy
     * against each swept number field, a heatmap over the first two fields of each space that sweeps two, and the
     * Pareto views of trainable parameters, peak memory and training time against best_val_loss.
     */
    public Map<String, Chart<?, ?>> charts() {
        return ResultCharts.all(this, "best_val_loss");
    }

    // ---- files ------------------------------------------------------------------------------------------

    /** Writes results.json and results.csv into {@code dir}, atomically. */
    public void save(Path dir) {
        JsonObject o = new JsonObject();
        o.addProperty("model", model);
        o.addProperty("data", data);
        JsonArray list = new JsonArray();
        trials.forEach(t -> list.add(t.toJson()));
        o.add("trials", list);
        AtomicFiles.writeString(dir.resolve(JSON), new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(o));
        AtomicFiles.writeString(dir.resolve(CSV), table().write().toString("csv"));
    }

    /** Reads results saved by {@link #save(Path)}: a folder holding results.json, or the file itself. */
    public static SweepResult load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve(JSON) : path;
        JsonObject o = JsonFiles.readObject(file, "sweep results", 1L << 30);
        try {
            List<TrialResult> list = new ArrayList<>();
            for (JsonElement e : o.getAsJsonArray("trials")) {
                list.add(TrialResult.fromJson(e.getAsJsonObject()));
            }
            return new SweepResult(JsonFields.string(o, "model", ""), JsonFields.string(o, "data", ""), list);
        } catch (RuntimeException e) {
            throw new BadFileException(file, "not saved sweep results (" + e.getMessage() + ")");
        }
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "Sweep on %s (%s): %d trials, %d failed%n", data, model, trials.size(), failedCount()));
        for (Group g : groups()) {
            s.append(String.format(Locale.ROOT, "  %-60s n=%d  best val loss %s  accuracy %s%n", g.label(), g.ok().size(),
                    meanStd(g, "best_val_loss", "%.4f"), meanStd(g, "accuracy", "%.3f")));
        }
        trials.stream().filter(t -> t.status() != TrialResult.Status.OK)
                .forEach(t -> s.append("  FAILED ").append(t.trial().id()).append(": ").append(t.message()).append('\n'));
        return s.toString().stripTrailing();
    }

    private static String meanStd(Group g, String metric, String format) {
        double m = g.mean(metric);
        double sd = g.std(metric);
        return Double.isNaN(m) ? "-" : String.format(Locale.ROOT, format, m) + (Double.isNaN(sd) ? "" : String.format(Locale.ROOT, " ± " + format, sd));
    }
}
