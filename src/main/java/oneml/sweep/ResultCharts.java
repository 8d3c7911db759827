package oneml.sweep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import oneml.viz.SweepCharts;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.internal.chartpart.Chart;
import tech.tablesaw.api.Table;

/**
 * A sweep result's charts ({@link SweepResult#chart}, {@link SweepResult#heatmap}, {@link SweepResult#pareto},
 * {@link SweepResult#charts()}): which fields vary, the checks with the names that exist, and the rows handed to
 * {@link SweepCharts}, which knows nothing of sweeps.
 */
final class ResultCharts {
    /** Costs the Pareto view takes (lower is better). */
    static final List<String> COSTS = List.of("trainable_params", "peak_mb", "train_s");
    /** Qualities the Pareto view takes. */
    static final List<String> QUALITIES = List.of("best_val_loss", "final_train_loss", "accuracy");
    /** What {@link SweepResult#chart} draws: the aggregated metrics and the trainable parameters. */
    static final List<String> CHART_METRICS;

    static {
        List<String> m = new ArrayList<>(SweepResult.METRICS);
        m.add("trainable_params");
        CHART_METRICS = List.copyOf(m);
    }

    private ResultCharts() {}

    static boolean higherIsBetter(String metric) {
        return metric.equals("accuracy") || metric.equals("tokens_per_s");
    }

    /** Every field of the trials, config fields then training fields, in table order. */
    static List<String> fields(SweepResult r) {
        Set<String> fields = new LinkedHashSet<>();
        r.trials().forEach(t -> {
            fields.addAll(t.trial().config().keySet());
            fields.addAll(t.trial().training().keySet());
        });
        return List.copyOf(fields);
    }

    static Object value(Trial t, String field) {
        return t.config().containsKey(field) ? t.config().get(field) : t.training().get(field);
    }

    /** Per space name (in plan order), the fields that take more than one value among its trials. */
    static Map<String, List<String>> sweptByName(SweepResult r) {
        Map<String, List<Trial>> byName = new LinkedHashMap<>();
        r.trials().forEach(t -> byName.computeIfAbsent(t.trial().name(), k -> new ArrayList<>()).add(t.trial()));
        List<String> fields = fields(r);
        Map<String, List<String>> out = new LinkedHashMap<>();
        byName.forEach((name, ts) -> out.put(name, fields.stream()
                .filter(f -> ts.stream().map(t -> value(t, f)).distinct().count() > 1).toList()));
        return out;
    }

    /** The fields that take more than one value within some space, in table order. */
    static List<String> swept(SweepResult r) {
        Set<String> any = new LinkedHashSet<>();
        sweptByName(r).values().forEach(any::addAll);
        return fields(r).stream().filter(any::contains).toList();
    }

    /** Whether every trial that has {@code field} holds a number there. */
    static boolean numeric(SweepResult r, String field) {
        return r.trials().stream().map(t -> value(t.trial(), field)).filter(Objects::nonNull).allMatch(v -> v instanceof Number);
    }

    private static void checkMetric(String metric, List<String> known, String what) {
        if (!known.contains(metric)) {
            throw new IllegalArgumentException("unknown " + what + " '" + metric + "'; choose from " + known);
        }
    }

    private static void checkField(SweepResult r, String field) {
        if (!fields(r).contains(field)) {
            throw new IllegalArgumentException("unknown field '" + field + "'; the swept fields are " + swept(r) + ", all fields "
                    + fields(r));
        }
    }

    static XYChart chart(SweepResult r, String metric, String field) {
        checkField(r, field);
        List<Double> xs = r.trials().stream().map(t -> value(t.trial(), field)).filter(v -> v instanceof Number)
                .map(v -> ((Number) v).doubleValue()).toList();
        double lo = xs.stream().mapToDouble(Double::doubleValue).min().orElse(0);
        double hi = xs.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        return chart(r, metric, field, lo > 0 && hi / lo >= 4);
    }

    static XYChart chart(SweepResult r, String metric, String field, boolean logX) {
        checkMetric(metric, CHART_METRICS, "metric");
        checkField(r, field);
        if (!numeric(r, field)) {
            throw new IllegalArgumentException("field '" + field + "' is not a number, so it has no x axis; the swept number fields are "
                    + swept(r).stream().filter(f -> numeric(r, f)).toList() + ", and heatmap(...) takes any field");
        }
        // the series: each space, split by the other fields that vary within it (so a point averages seeds only)
        List<String> seriesBy = new ArrayList<>();
        seriesBy.add("name");
        Set<String> others = new LinkedHashSet<>();
        sweptByName(r).forEach((name, fs) -> {
            if (r.trials().stream().anyMatch(t -> t.trial().name().equals(name) && value(t.trial(), field) != null)) {
                fs.stream().filter(f -> !f.equals(field)).forEach(others::add);
            }
        });
        fields(r).stream().filter(others::contains).forEach(seriesBy::add);
        return SweepCharts.metricAgainst(r.table(), metric, field, seriesBy, logX, higherIsBetter(metric));
    }

    static HeatMapChart heatmap(SweepResult r, String metric, String x, String y) {
        checkMetric(metric, CHART_METRICS, "metric");
        checkField(r, x);
        checkField(r, y);
        List<String> names = sweptByName(r).entrySet().stream().filter(e -> e.getValue().contains(x) && e.getValue().contains(y))
                .map(Map.Entry::getKey).toList();
        if (names.isEmpty()) {
            throw new IllegalArgumentException("no space sweeps both '" + x + "' and '" + y + "'; the swept fields per space are " + sweptByName(r));
        }
        if (names.size() > 1) {
            throw new IllegalArgumentException("the spaces " + names + " all sweep '" + x + "' and '" + y + "'; name one: heatmap(\""
                    + names.get(0) + "\", \"" + metric + "\", \"" + x + "\", \"" + y + "\")");
        }
        return heatmap(r, names.get(0), metric, x, y);
    }

    static HeatMapChart heatmap(SweepResult r, String name, String metric, String x, String y) {
        checkMetric(metric, CHART_METRICS, "metric");
        checkField(r, x);
        checkField(r, y);
        if (x.equals(y)) {
            throw new IllegalArgumentException("a heatmap needs two different fields, got '" + x + "' twice");
        }
        Map<String, List<String>> swept = sweptByName(r);
        if (!swept.containsKey(name)) {
            throw new IllegalArgumentException("no space '" + name + "'; the spaces are " + swept.keySet());
        }
        Table rows = r.table();
        rows = rows.where(rows.stringColumn("name").isEqualTo(name));
        List<String> pooled = swept.get(name).stream().filter(f -> !f.equals(x) && !f.equals(y)).toList();
        String subject = name + (pooled.isEmpty() ? "" : " (" + String.join(", ", pooled) + " pooled)");
        return SweepCharts.heatmap(rows, metric, x, y, higherIsBetter(metric), subject);
    }

    static XYChart pareto(SweepResult r, String cost, String quality) {
        checkMetric(cost, COSTS, "cost");
        checkMetric(quality, QUALITIES, "quality");
        Table rows = r.table();
        double[] costs = ((tech.tablesaw.api.NumberColumn<?, ?>) rows.column(cost)).asDoubleArray();
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        double[] q = rows.doubleColumn(quality).asDoubleArray();
        for (int i = 0; i < costs.length; i++) {
            if (Double.isFinite(q[i]) && Double.isFinite(costs[i])) {
                lo = Math.min(lo, costs[i]);
                hi = Math.max(hi, costs[i]);
            }
        }
        return SweepCharts.pareto(rows, cost, quality, "name", lo > 0 && hi / lo >= 4, higherIsBetter(quality));
    }

    /**
     * The charts that make sense for this sweep, by file name: {@code rank} and accuracy against each swept number field,
     * a heatmap of each over the first two swept fields of every space that sweeps two, and the Pareto views of the
     * three costs against {@code rank}. A chart with nothing to draw (every trial failed) is left out.
     */
    static Map<String, Chart<?, ?>> all(SweepResult r, String rank) {
        Map<String, Chart<?, ?>> charts = new LinkedHashMap<>();
        boolean accuracy = r.trials().stream().anyMatch(t -> Double.isFinite(SweepResult.metric(t, "accuracy")));
        List<String> metrics = accuracy && !rank.equals("accuracy") ? List.of(rank, "accuracy") : List.of(rank);
        for (String f : swept(r)) {
            if (numeric(r, f)) {
                metrics.forEach(m -> add(charts, m + "_vs_" + f + ".png", () -> chart(r, m, f)));
            }
        }
        sweptByName(r).forEach((name, fs) -> {
            if (fs.size() >= 2) {
                // number fields first: their cells order themselves
                List<String> axes = new ArrayList<>(fs.stream().filter(f -> numeric(r, f)).toList());
                fs.stream().filter(f -> !numeric(r, f)).forEach(axes::add);
                String x = axes.get(0);
                String y = axes.get(1);
                metrics.forEach(m -> add(charts, "heatmap_" + name + "_" + m + "_" + x + "_" + y + ".png", () -> heatmap(r, name, m, x, y)));
            }
        });
        for (String cost : COSTS) {
            add(charts, "pareto_" + cost + "_" + rank + ".png", () -> pareto(r, cost, rank));
        }
        return charts;
    }

    private static void add(Map<String, Chart<?, ?>> charts, String file, Supplier<Chart<?, ?>> chart) {
        try {
            charts.put(file, chart.get());
        } catch (IllegalArgumentException e) {
            // nothing to draw (no trial with numbers for it): the chart is left out
        }
    }
}
