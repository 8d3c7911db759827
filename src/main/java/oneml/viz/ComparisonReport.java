package oneml.viz;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import oneml.compare.Comparison;
import oneml.compare.MemoryPlan;
import oneml.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;
import tech.tablesaw.api.Table;
import tech.tablesaw.io.html.HtmlWriteOptions;
import tech.tablesaw.io.html.HtmlWriter;

/**
 * Writes a comparison to a folder: report.html (tables and charts embedded, readable offline), results.json,
 * results.csv, and each chart as a PNG. Every file is written atomically.
 */
public final class ComparisonReport {
    public static final String HTML = "report.html";

    private ComparisonReport() {}

    /** The charts of a report by file name, in the order the report shows them. */
    public static Map<String, Chart<?, ?>> charts(Comparison c, MemoryPlan plan) {
        Map<String, Chart<?, ?>> charts = new LinkedHashMap<>();
        charts.put("loss_curves.png", ComparisonCharts.lossCurves(c));
        charts.put("quality_vs_trainable.png", ComparisonCharts.qualityVsTrainable(c));
        charts.put("trainable_params.png", ComparisonCharts.trainableParameters(c));
        charts.put("peak_memory.png", ComparisonCharts.peakMemory(c));
        charts.put("tokens_per_s.png", ComparisonCharts.tokensPerSecond(c));
        if (plan != null) {
            charts.put("memory_plan.png", ComparisonCharts.memoryPlan(plan));
        }
        return charts;
    }

    /** Writes everything into {@code dir} and returns the report's path. {@code plan} may be null. */
    public static Path write(Comparison c, MemoryPlan plan, Path dir) {
        c.save(dir);
        Map<String, byte[]> pngs = new LinkedHashMap<>();
        for (Map.Entry<String, Chart<?, ?>> e : charts(c, plan).entrySet()) {
            byte[] png = png(e.getValue());
            pngs.put(e.getKey(), png);
            AtomicFiles.write(dir.resolve(e.getKey()), out -> out.write(png));
        }
        Path report = dir.resolve(HTML);
        AtomicFiles.writeString(report, html(c, plan, pngs));
        return report;
    }

    /** A chart as PNG bytes. */
    public static byte[] png(Chart<?, ?> chart) {
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the chart '" + chart.getTitle() + "': " + e.getMessage(), e);
        }
    }

    static String html(Comparison c, MemoryPlan plan, Map<String, byte[]> pngs) {
        StringBuilder s = new StringBuilder();
        s.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>oneml comparison: ")
                .append(escape(c.dataset())).append("</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0;font-size:80%;max-width:100%}")
                .append("th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;white-space:nowrap}")
                .append("th{background:#f4f4f4;white-space:normal;vertical-align:bottom}td:first-child,th:first-child{text-align:left}")
                .append("td:nth-child(2){white-space:normal;text-align:left;min-width:9em}.wide{overflow-x:auto}")
                .append("img{max-width:100%;margin:1em 0}.note{color:#555}</style></head><body>\n");
        s.append("<h1>PEFT methods compared on ").append(escape(c.dataset())).append("</h1>\n");
        s.append("<p class=\"note\">").append(escape(String.format(Locale.ROOT,
                "Base model %s; %d optimiser steps per method; accuracy is exact match of greedy answers on %d test rows%s."
                        + " Model MB is the model's arrays in training form, counted; peak MB adds what training took, measured as"
                        + " the process's resident memory above that point. Tokens/s is the median step after warm-up steps,"
                        + " validations not counted; others' CPU is the share of the machine other processes used meanwhile.",
                c.model(), c.steps(), c.testRows(), Double.isNaN(c.baselineMetric()) ? ""
                        : String.format(Locale.ROOT, " (untrained: %.3f)", c.baselineMetric())))).append("</p>\n");
        s.append("<h2>Results</h2>\n<div class=\"wide\">").append(table(c.formattedTable())).append("</div>\n");
        if (!c.busyNote().isEmpty()) {
            s.append("<p><b>").append(escape(c.busyNote())).append("</b></p>\n");
        }
        s.append("<h2>The docs' table, measured</h2>\n").append(table(c.docsTable()));
        s.append("<h2>Charts</h2>\n");
        for (Map.Entry<String, byte[]> e : pngs.entrySet()) {
            s.append("<img alt=\"").append(escape(e.getKey())).append("\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(e.getValue())).append("\">\n");
        }
        if (plan != null) {
            s.append("<h2>Memory planner</h2>\n<p class=\"note\">").append(escape(plan.shape().toString())).append("</p>\n")
                    .append(table(formatted(plan.table())));
        }
        s.append("<h2>Environment</h2>\n<table>");
        c.environment().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> s.append("<tr><th>").append(escape(e.getKey()))
                .append("</th><td>").append(escape(e.getValue())).append("</td></tr>"));
        s.append("</table>\n");
        String failed = c.results().stream().filter(r -> !r.hasNumbers()).map(r -> r.name() + ": " + r.status() + " " + r.message())
                .reduce((a, b) -> a + "; " + b).orElse("");
        if (!failed.isEmpty()) {
            s.append("<p><b>Not measured:</b> ").append(escape(failed)).append("</p>\n");
        }
        return s.append("</body></html>\n").toString();
    }

    /**
     * The same table with numbers as a person reads them: thousands separators, at most a few significant decimals,
     * and column names with spaces instead of underscores.
     */
    public static Table formatted(Table t) {
        Table out = Table.create(t.name());
        for (var column : t.columns()) {
            tech.tablesaw.api.StringColumn text = tech.tablesaw.api.StringColumn.create(column.name().replace('_', ' '));
            for (int i = 0; i < column.size(); i++) {
                Object v = column.get(i);
                text.append(v instanceof Number n ? number(n) : String.valueOf(v));
            }
            out.addColumns(text);
        }
        return out;
    }

    static String number(Number n) {
        if (n instanceof Long || n instanceof Integer) {
            return String.format(Locale.ROOT, "%,d", n.longValue());
        }
        double d = n.doubleValue();
        if (Double.isNaN(d)) {
            return "";
        }
        double a = Math.abs(d);
        String pattern = a >= 100 ? "%,.0f" : a >= 10 ? "%.1f" : a >= 0.01 || a == 0 ? "%.2f" : "%.2e";
        return String.format(Locale.ROOT, pattern, d);
    }

    /** A Tablesaw table as an HTML table, text escaped. */
    public static String table(Table t) {
        StringWriter out = new StringWriter();
        try {
            new HtmlWriter().write(t, HtmlWriteOptions.builder(out).escapeText(true).build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Text safe to put in HTML. */
    public static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
