package oneml.viz;

import java.awt.Color;
import java.awt.Font;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import tech.tablesaw.api.NumberColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

/**
 * Charts of a sweep's trials, from a Tablesaw table with one row per trial (a seed of a configuration) and named
 * columns, as {@code SweepResult.table()} has them; rows whose metric is missing (NaN: a failed trial) are left out.
 * <ul>
 *   <li>{@link #metricAgainst}: a metric against one field, one line per series (space name, and the other fields that
 *       vary), each point the mean over the rows with that x, error bars one sample standard deviation, n in the
 *       legend;</li>
 *   <li>{@link #heatmap}: a metric's mean over two fields, one cell per pair of values, the means written in the
 *       cells;</li>
 *   <li>{@link #pareto}: every row as a point, a cost against a quality, the rows no other row beats on both marked
 *       and joined.</li>
 * </ul>
 * Titles and axes say what is drawn: the metric, mean ± std over how many seeds, and which direction is better.
 */
public final class SweepCharts {
    private SweepCharts() {}

    /** A chart's point: the mean of a metric over {@code n} rows and their sample standard deviation (NaN below 2). */
    public record Point(double x, double mean, double std, int n) {}

    /**
     * {@code metric} (a number column) against {@code x} (a number column), one series per distinct combination of
     * the {@code seriesBy} columns (shown as "lora" for the first, "learningRate=0.002" for the others, missing values
     * left out), each point the mean ± std over the rows sharing its series and x.
     *
     * @param logX           a logarithmic x axis (every x must then be above zero)
     * @param higherIsBetter how the title says which way is better
     */
    public static XYChart metricAgainst(Table rows, String metric, String x, List<String> seriesBy, boolean logX, boolean higherIsBetter) {
        numberColumn(rows, metric);
        numberColumn(rows, x);
        seriesBy.forEach(c -> column(rows, c));
        Map<String, List<Point>> series = points(rows, metric, x, seriesBy);
        if (series.isEmpty()) {
            throw new IllegalArgumentException("no row has both a number for '" + metric + "' and for '" + x + "': nothing to draw");
        }
        if (logX && series.values().stream().flatMap(List::stream).anyMatch(p -> !(p.x() > 0))) {
            throw new IllegalArgumentException("a log x axis needs every '" + x + "' above zero; draw it on a linear axis");
        }
        int[] n = series.values().stream().flatMap(List::stream).mapToInt(Point::n).toArray();
        int nMin = Arrays.stream(n).min().orElse(0);
        int nMax = Arrays.stream(n).max().orElse(0);
        String over = nMin == nMax ? String.format(Locale.ROOT, "over %d %s", nMin, nMin == 1 ? "seed" : "seeds")
                : String.format(Locale.ROOT, "over %d-%d seeds", nMin, nMax);
        String better = better(higherIsBetter);
        XYChart chart = new XYChartBuilder().width(WIDTH).height(440)
                .title(metric + " against " + x + ", mean ± std " + over + " (" + better + ")")
                .xAxisTitle(x + (logX ? " (log scale)" : ""))
                .yAxisTitle(metric + ", mean ± std over seeds (" + better + ")").build();
        style(chart);
        xRange(chart, series.values().stream().flatMap(List::stream).mapToDouble(Point::x).toArray(), logX);
        chart.getStyler().setMarkerSize(7);
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        int i = 0;
        for (Map.Entry<String, List<Point>> e : series.entrySet()) {
            List<Point> ps = e.getValue();
            double[] xs = ps.stream().mapToDouble(Point::x).toArray();
            double[] ys = ps.stream().mapToDouble(Point::mean).toArray();
            double[] err = ps.stream().mapToDouble(p -> Double.isNaN(p.std()) ? 0 : p.std()).toArray();
            int lo = ps.stream().mapToInt(Point::n).min().orElse(0);
            int hi = ps.stream().mapToInt(Point::n).max().orElse(0);
            XYSeries s = chart.addSeries(e.getKey() + (lo == hi ? " (n=" + lo + ")" : " (n=" + lo + "-" + hi + ")"), xs, ys, err);
            Color color = ComparisonCharts.PALETTE[i++ % ComparisonCharts.PALETTE.length];
            s.setLineColor(color);
            s.setMarkerColor(color);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }

    /**
     * The points of {@link #metricAgainst}: per series (in order of first appearance), per distinct x (ascending), the
     * mean, sample standard deviation and count of the finite {@code metric} values.
     */
    public static Map<String, List<Point>> points(Table rows, String metric, String x, List<String> seriesBy) {
        NumberColumn<?, ?> m = numberColumn(rows, metric);
        NumberColumn<?, ?> xs = numberColumn(rows, x);
        Map<String, TreeMap<Double, List<Double>>> groups = new LinkedHashMap<>();
        for (int r = 0; r < rows.rowCount(); r++) {
            double v = m.getDouble(r);
            double at = xs.getDouble(r);
            if (!Double.isFinite(v) || !Double.isFinite(at)) {
                continue;
            }
            groups.computeIfAbsent(seriesName(rows, r, seriesBy), k -> new TreeMap<>()).computeIfAbsent(at, k -> new ArrayList<>()).add(v);
        }
        Map<String, List<Point>> out = new LinkedHashMap<>();
        groups.forEach((name, byX) -> {
            List<Point> ps = new ArrayList<>();
            byX.forEach((at, values) -> ps.add(new Point(at, mean(values), std(values), values.size())));
            out.put(name, ps);
        });
        return out;
    }

    /**
     * {@code metric}'s mean over the rows of each pair of {@code x} and {@code y} values (number or text columns, in
     * ascending order), the mean written in its cell; a pair without numbers is left blank. The colour runs from light
     * (worse) to dark (better).
     *
     * @param subject what the rows are, for the title (e.g. "lora", or "lora (targetModules pooled)" when the cells mix
     *                another field's values), or empty
     */
    public static HeatMapChart heatmap(Table rows, String metric, String x, String y, boolean higherIsBetter, String subject) {
        NumberColumn<?, ?> m = numberColumn(rows, metric);
        Column<?> cx = column(rows, x);
        Column<?> cy = column(rows, y);
        Map<Object, Map<Object, List<Double>>> cells = new TreeMap<>(SweepCharts::compareValues);
        for (int r = 0; r < rows.rowCount(); r++) {
            double v = m.getDouble(r);
            Object a = value(cx, r);
            Object b = value(cy, r);
            if (!Double.isFinite(v) || a == null || b == null) {
                continue;
            }
            cells.computeIfAbsent(a, k -> new TreeMap<>(SweepCharts::compareValues)).computeIfAbsent(b, k -> new ArrayList<>()).add(v);
        }
        if (cells.isEmpty()) {
            throw new IllegalArgumentException("no row has a number for '" + metric + "' and values for '" + x + "' and '" + y + "': nothing to draw");
        }
        List<Object> xValues = new ArrayList<>(cells.keySet());
        TreeMap<Object, Boolean> yAll = new TreeMap<>(SweepCharts::compareValues);
        cells.values().forEach(c -> c.keySet().forEach(k -> yAll.put(k, true)));
        List<Object> yValues = new ArrayList<>(yAll.keySet());
        List<Number[]> heat = new ArrayList<>();
        int nMin = Integer.MAX_VALUE;
        int nMax = 0;
        for (int i = 0; i < xValues.size(); i++) {
            for (Map.Entry<Object, List<Double>> e : cells.get(xValues.get(i)).entrySet()) {
                heat.add(new Number[] {i, yValues.indexOf(e.getKey()), mean(e.getValue())});
                nMin = Math.min(nMin, e.getValue().size());
                nMax = Math.max(nMax, e.getValue().size());
            }
        }
        String n = nMin == nMax ? "n=" + nMin : "n=" + nMin + "-" + nMax;
        String better = better(higherIsBetter);
        HeatMapChart chart = new HeatMapChartBuilder().width(WIDTH).height(480)
                .title((subject == null || subject.isEmpty() ? "" : subject + ": ") + "mean " + metric + " over seeds (" + n
                        + " per cell; " + better + ", shown darker)")
                .xAxisTitle(x).yAxisTitle(y).build();
        style(chart);
        chart.getStyler().setShowValue(true);
        chart.getStyler().setValueFontColor(Color.BLACK);
        double largest = heat.stream().mapToDouble(c -> Math.abs(c[2].doubleValue())).max().orElse(0);
        chart.getStyler().setHeatMapValueDecimalPattern(largest >= 100 ? "#,##0" : largest >= 1 ? "0.00" : "0.000");
        Color light = new Color(0xf7fbff);
        Color mid = new Color(0xc6dbef);
        Color dark = new Color(0x4292c6);
        // XChart runs the colours from the lowest value to the highest: the better end is dark either way
        chart.getStyler().setRangeColors(higherIsBetter ? new Color[] {light, mid, dark} : new Color[] {dark, mid, light});
        chart.addSeries(metric, xValues.stream().map(SweepCharts::label).toList(), yValues.stream().map(SweepCharts::label).toList(), heat);
        return chart;
    }

    /**
     * Every row with numbers for both as a point, {@code quality} against {@code cost} (lower cost is better), one
     * colour per distinct {@code seriesBy} value; the Pareto front (the rows no other row matches or beats on both
     * with a strict gain on one) is marked with diamonds and joined by a line, in order of cost.
     */
    public static XYChart pareto(Table rows, String cost, String quality, String seriesBy, boolean logCost, boolean higherQualityIsBetter) {
        NumberColumn<?, ?> c = numberColumn(rows, cost);
        NumberColumn<?, ?> q = numberColumn(rows, quality);
        Column<?> s = column(rows, seriesBy);
        List<Integer> shown = new ArrayList<>();
        for (int r = 0; r < rows.rowCount(); r++) {
            if (Double.isFinite(c.getDouble(r)) && Double.isFinite(q.getDouble(r))) {
                shown.add(r);
            }
        }
        if (shown.isEmpty()) {
            throw new IllegalArgumentException("no row has numbers for both '" + cost + "' and '" + quality + "': nothing to draw");
        }
        if (logCost && shown.stream().anyMatch(r -> !(c.getDouble(r) > 0))) {
            throw new IllegalArgumentException("a log axis needs every '" + cost + "' above zero; draw it on a linear axis");
        }
        double[] costs = shown.stream().mapToDouble(c::getDouble).toArray();
        double[] qualities = shown.stream().mapToDouble(q::getDouble).toArray();
        List<Integer> front = paretoFront(costs, qualities, higherQualityIsBetter);
        XYChart chart = new XYChartBuilder().width(WIDTH).height(440)
                .title(String.format(Locale.ROOT, "Pareto view of %d trials: %s against %s; ◆ front: not beaten on both", shown.size(), quality, cost))
                .xAxisTitle(cost + " per trial (" + (logCost ? "log scale; " : "") + "lower is better)")
                .yAxisTitle(quality + " per trial (" + better(higherQualityIsBetter) + ")").build();
        style(chart);
        xRange(chart, costs, logCost);
        chart.getStyler().setMarkerSize(8);
        Map<String, List<Integer>> bySeries = new LinkedHashMap<>();
        for (int i = 0; i < shown.size(); i++) {
            Object v = value(s, shown.get(i));
            bySeries.computeIfAbsent(v == null ? "" : label(v), k -> new ArrayList<>()).add(i);
        }
        int k = 0;
        for (Map.Entry<String, List<Integer>> e : bySeries.entrySet()) {
            XYSeries points = chart.addSeries(e.getKey() + " (" + e.getValue().size() + ")", e.getValue().stream().mapToDouble(i -> costs[i]).toArray(),
                    e.getValue().stream().mapToDouble(i -> qualities[i]).toArray());
            points.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            points.setMarker(SeriesMarkers.CIRCLE);
            points.setMarkerColor(ComparisonCharts.PALETTE[k++ % ComparisonCharts.PALETTE.length]);
        }
        XYSeries line = chart.addSeries("Pareto front (" + front.size() + ")", front.stream().mapToDouble(i -> costs[i]).toArray(),
                front.stream().mapToDouble(i -> qualities[i]).toArray());
        line.setMarker(SeriesMarkers.DIAMOND);
        line.setMarkerColor(Color.BLACK);
        line.setLineColor(Color.DARK_GRAY);
        return chart;
    }

    /**
     * The indexes of the non-dominated points, in ascending cost: a point is dominated when another has a cost no
     * higher and a quality no worse, and is strictly better on one of them (equal points are all kept).
     */
    public static List<Integer> paretoFront(double[] cost, double[] quality, boolean higherQualityIsBetter) {
        double sign = higherQualityIsBetter ? 1 : -1;
        Integer[] order = new Integer[cost.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // cheapest first; within one cost, the best quality first
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> cost[i]).thenComparingDouble(i -> -sign * quality[i]));
        List<Integer> front = new ArrayList<>();
        double bestCheaper = Double.NEGATIVE_INFINITY; // the best (signed) quality among strictly cheaper points
        int i = 0;
        while (i < order.length) {
            int j = i;
            double groupBest = sign * quality[order[i]];
            double groupCost = cost[order[i]];
            while (j < order.length && cost[order[j]] == groupCost) {
                if (sign * quality[order[j]] == groupBest && groupBest > bestCheaper) {
                    front.add(order[j]);
                }
                j++;
            }
            bestCheaper = Math.max(bestCheaper, groupBest);
            i = j;
        }
        return front;
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private static final int WIDTH = 800;
    /** About the plot's width in pixels in a chart {@link #WIDTH} wide with its legend on the right. */
    static final double PLOT_PX = 560;
    static final double TICK_LABEL_CHAR_PX = 7.5;

    private static void style(Chart<?, ?> chart) {
        chart.getStyler().setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        if (chart instanceof XYChart xy) {
            xy.getStyler().setYAxisDecimalPattern("#,##0.####");
        }
    }

    /**
     * Room around the points, so that the first and last are not on the frame. A log axis gets a factor of 1.3 each way
     * (which also brings the next tick into view, 20 after 16) and a labelled tick at 1, 2, ... 9 times each power of
     * ten while those labels fit side by side; otherwise ticks at the powers of ten only, the range widened to whole
     * decades when it would hold fewer than two of them.
     */
    private static void xRange(XYChart chart, double[] xs, boolean log) {
        double lo = Arrays.stream(xs).min().orElse(0);
        double hi = Arrays.stream(xs).max().orElse(0);
        if (log) {
            chart.getStyler().setXAxisLogarithmic(true);
            double min = lo / 1.3;
            double max = hi * 1.3;
            boolean decades = !allLogTicksFit(min, max);
            if (decades && Math.floor(Math.log10(max)) - Math.ceil(Math.log10(min)) < 1) {
                min = Math.pow(10, Math.floor(Math.log10(min)));
                max = Math.pow(10, Math.ceil(Math.log10(max)));
            }
            chart.getStyler().setXAxisLogarithmicDecadeOnly(decades);
            chart.getStyler().setXAxisMin(min);
            chart.getStyler().setXAxisMax(max);
        } else {
            chart.getStyler().setXAxisDecimalPattern("#,##0.#####");
            if (hi > lo) {
                chart.getStyler().setXAxisMin(lo - 0.05 * (hi - lo));
                chart.getStyler().setXAxisMax(hi + 0.05 * (hi - lo));
            }
        }
    }

    /**
     * Whether labels at every 1-9 times a power of ten between {@code min} and {@code max} fit on the plot's width: the
     * closest two (9 and 10) are log10(10/9) of a decade apart, and a label takes about {@link #TICK_LABEL_CHAR_PX}
     * pixels a character (XChart's 12-point labels, plus a gap).
     */
    static boolean allLogTicksFit(double min, double max) {
        int chars = 0;
        for (int d = (int) Math.floor(Math.log10(min)); d <= (int) Math.ceil(Math.log10(max)); d++) {
            for (int m = 1; m <= 9; m++) {
                double v = m * Math.pow(10, d);
                if (v >= min && v <= max) {
                    chars = Math.max(chars, show(Double.parseDouble(String.format(Locale.ROOT, "%.3g", v))).length());
                }
            }
        }
        double pixelsPerDecade = PLOT_PX / Math.log10(max / min);
        return Math.log10(10.0 / 9) * pixelsPerDecade >= (chars + 1) * TICK_LABEL_CHAR_PX;
    }

    private static String better(boolean higherIsBetter) {
        return higherIsBetter ? "higher is better" : "lower is better";
    }

    private static Column<?> column(Table rows, String name) {
        if (!rows.containsColumn(name)) {
            throw new IllegalArgumentException("no column '" + name + "'; the columns are " + rows.columnNames());
        }
        return rows.column(name);
    }

    private static NumberColumn<?, ?> numberColumn(Table rows, String name) {
        if (!(column(rows, name) instanceof NumberColumn<?, ?> c)) {
            throw new IllegalArgumentException("column '" + name + "' holds " + rows.column(name).type() + ", not numbers; the number columns are "
                    + rows.columns().stream().filter(k -> k instanceof NumberColumn).map(Column::name).toList());
        }
        return c;
    }

    /** A cell's value: a finite number as a Double, text as itself; null when missing (NaN, empty text). */
    private static Object value(Column<?> c, int row) {
        if (c instanceof NumberColumn<?, ?> n) {
            double v = n.getDouble(row);
            return Double.isFinite(v) ? v : null;
        }
        Object v = c.get(row);
        return v == null || v.toString().isEmpty() ? null : v.toString();
    }

    private static String seriesName(Table rows, int r, List<String> seriesBy) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < seriesBy.size(); i++) {
            Object v = value(rows.column(seriesBy.get(i)), r);
            if (v == null) {
                continue;
            }
            if (s.length() > 0) {
                s.append(' ');
            }
            s.append(i == 0 ? label(v) : seriesBy.get(i) + "=" + label(v));
        }
        return s.length() == 0 ? "all" : s.toString();
    }

    private static int compareValues(Object a, Object b) {
        if (a instanceof Double x && b instanceof Double y) {
            return Double.compare(x, y);
        }
        if (a instanceof Double) {
            return -1;
        }
        if (b instanceof Double) {
            return 1;
        }
        return a.toString().compareTo(b.toString());
    }

    private static String label(Object v) {
        return v instanceof Double d ? show(d) : v.toString();
    }

    /** A number as people write it: 16, 0.002, 1e-05, 0.6931. */
    public static String show(double v) {
        if (Double.isNaN(v)) {
            return "";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return String.valueOf((long) v);
        }
        String s = String.format(Locale.ROOT, "%.4g", v);
        String mantissa = s.contains("e") ? s.substring(0, s.indexOf('e')) : s;
        String exponent = s.contains("e") ? s.substring(s.indexOf('e')) : "";
        if (mantissa.contains(".")) {
            mantissa = mantissa.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return mantissa + exponent;
    }

    static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** The sample standard deviation (n - 1), NaN below two values. */
    static double std(List<Double> values) {
        if (values.size() < 2) {
            return Double.NaN;
        }
        double m = mean(values);
        return Math.sqrt(values.stream().mapToDouble(v -> (v - m) * (v - m)).sum() / (values.size() - 1));
    }
}
