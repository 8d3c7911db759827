package oneml.sweep;

import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import oneml.compare.Comparison;
import oneml.io.AtomicFiles;
import oneml.viz.ComparisonCharts;
import oneml.viz.ComparisonReport;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * Writes a sweep's results folder: results.json, results.csv, report.html (readable offline, the charts inline: each
 * method's best configuration, the charts of {@link SweepResult#charts()} and the best configurations' loss curves, the
 * aggregates over seeds, every trial, the failures) and each chart as a PNG, every file atomically.
 */
final class SweepReport {
    static final String HTML = "report.html";
    /** The metric the report ranks configurations by. */
    static final String RANK_BY = "best_val_loss";

    private SweepReport() {}

    /** The best configurations' loss curves. */
    static final String LOSS_CURVES = "loss_curves_best.png";

    static Path write(SweepResult r, Path dir) {
        r.save(dir);
        Map<String, byte[]> pngs = new LinkedHashMap<>();
        Map<String, String> titles = new LinkedHashMap<>();
        for (Map.Entry<String, Chart<?, ?>> e : charts(r).entrySet()) {
            byte[] png = ComparisonReport.png(e.getValue());
            pngs.put(e.getKey(), png);
            titles.put(e.getKey(), e.getValue().getTitle());
            AtomicFiles.write(dir.resolve(e.getKey()), out -> out.write(png));
        }
        Path report = dir.resolve(HTML);
        AtomicFiles.writeString(report, html(r, pngs, titles));
        return report;
    }

    /** The report's charts by file name: {@link SweepResult#charts()}, then the best configurations' loss curves. */
    static Map<String, Chart<?, ?>> charts(SweepResult r) {
        Map<String, Chart<?, ?>> charts = new LinkedHashMap<>(r.charts());
        Comparison best = r.toComparison(RANK_BY);
        if (!best.results().isEmpty()) {
            charts.put(LOSS_CURVES, ComparisonCharts.lossCurves(best));
        }
        return charts;
    }

    static String html(SweepResult r, Map<String, byte[]> pngs, Map<String, String> titles) {
        StringBuilder s = new StringBuilder();
        s.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>oneml sweep: ")
                .append(ComparisonReport.escape(r.data())).append("</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0;font-size:80%}")
                .append("th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;white-space:nowrap}")
                .append("th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.wide{overflow-x:auto}")
                .append("img{max-width:100%;margin:1em 0}.note{color:#555}</style></head><body>\n");
        s.append("<h1>Sweep on ").append(ComparisonReport.escape(r.data())).append("</h1>\n<p class=\"note\">")
                .append(ComparisonReport.escape(String.format(Locale.ROOT, "Base model %s; %d trials, %d failed. Each trial is one training"
                        + " and one evaluation in a JVM of its own; means and standard deviations are over seeds (n: the trials that"
                        + " produced numbers). Peak memory is the trial's own process; tokens/s is the median step after warm-up steps;"
                        + " trials that ran side by side share the machine, so compare speeds within one sweep only.",
                        r.model(), r.trials().size(), r.failedCount()))).append("</p>\n");
        s.append("<h2>Best configuration per method (by mean ").append(RANK_BY).append(")</h2>\n<div class=\"wide\">")
                .append(ComparisonReport.table(ComparisonReport.formatted(r.best(RANK_BY)))).append("</div>\n");
        if (!pngs.isEmpty()) {
            List<String> swept = r.sweptFields();
            s.append("<h2>Charts</h2>\n<p class=\"note\">").append(ComparisonReport.escape((swept.isEmpty() ? "No field varies within a space."
                    : "Swept fields: " + String.join(", ", swept) + ".")
                    + " Points and cells are means over the seeds that produced numbers, error bars one standard deviation (n in the"
                    + " legend); the Pareto views show every trial, the line joining those no other trial beats on both axes; each PNG"
                    + " is also in this folder.")).append("</p>\n");
            for (Map.Entry<String, byte[]> e : pngs.entrySet()) {
                s.append("<img alt=\"").append(ComparisonReport.escape(titles.getOrDefault(e.getKey(), e.getKey())))
                        .append("\" title=\"").append(ComparisonReport.escape(e.getKey())).append("\" src=\"data:image/png;base64,")
                        .append(Base64.getEncoder().encodeToString(e.getValue())).append("\">\n");
            }
        }
        s.append("<h2>Every configuration, over seeds</h2>\n<div class=\"wide\">")
                .append(ComparisonReport.table(ComparisonReport.formatted(r.aggregates()))).append("</div>\n");
        s.append("<h2>Every trial</h2>\n<div class=\"wide\">").append(ComparisonReport.table(ComparisonReport.formatted(r.table())))
                .append("</div>\n");
        String failed = r.trials().stream().filter(t -> t.status() != TrialResult.Status.OK).map(t -> t.trial().id() + ": " + t.message())
                .reduce((a, b) -> a + "; " + b).orElse("");
        if (!failed.isEmpty()) {
            s.append("<p><b>Failed:</b> ").append(ComparisonReport.escape(failed)).append("</p>\n");
        }
        return s.append("</body></html>\n").toString();
    }
}
