package oneml.kernel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import oneml.compare.Comparison;
import oneml.compare.MemoryPlan;
import oneml.data.TextDataset;
import oneml.peft.Adapter;
import oneml.peft.PeftModel;
import oneml.sweep.Sweep;
import oneml.sweep.SweepPlan;
import oneml.sweep.SweepResult;
import oneml.sweep.TrialResult;
import oneml.train.Evaluator;
import oneml.train.TrainingRun;
import oneml.viz.ComparisonReport;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.RenderContext;
import org.dflib.jjava.jupyter.kernel.display.RenderFunction;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.internal.chartpart.Chart;
import tech.tablesaw.api.Table;
import tech.tablesaw.io.html.HtmlWriteOptions;
import tech.tablesaw.io.html.HtmlWriter;

/**
 * How cell values look in a notebook: Tablesaw tables as HTML (first rows, then the shape) and text, XChart
 * charts as PNG (SVG on request), oneml's configs, PEFT models, training runs, evaluation results, datasets, sweeps
 * (their plan), sweep plans and sweep results (with a chart) as small HTML summaries, each with its {@code toString()}
 * as text/plain. A renderer that fails falls back to
 * text instead of failing the cell.
 */
final class Renderers {
    /** Rows of a table shown before "... N more rows". */
    static final int TABLE_ROWS = 20;

    private static final MIMEType HTML = MIMEType.TEXT_HTML;
    private static final MIMEType PNG = MIMEType.IMAGE_PNG;
    private static final MIMEType SVG = MIMEType.IMAGE_SVG;

    private Renderers() {}

    /**
     * One kind of value: its class, the MIME type shown by default, the others it can be asked for, and how to draw
     * it. {@link #registerAll} registers these with a JJava renderer; {@link IJavaRenderers} the same ones with
     * IJava's.
     */
    record Kind(Class<?> type, MIMEType preferred, List<MIMEType> others, RenderFunction<Object> render) {
        /** Every MIME type this kind can produce. */
        List<MIMEType> types() {
            List<MIMEType> all = new ArrayList<>();
            all.add(preferred);
            all.addAll(others);
            return all;
        }
    }

    static final List<Kind> KINDS = List.of(
            new Kind(Table.class, HTML, List.of(MIMEType.TEXT_PLAIN), (t, ctx) -> {
                ctx.renderIfRequested(HTML, () -> tableHtml((Table) t));
                ctx.renderIfRequested(MIMEType.TEXT_PLAIN, () -> ((Table) t).print(TABLE_ROWS));
            }),
            new Kind(Chart.class, PNG, List.of(SVG), (c, ctx) -> {
                Chart<?, ?> chart = (Chart<?, ?>) c;
                ctx.renderIfRequested(PNG, () -> png(chart));
                ctx.renderIfRequested(SVG, () -> svg(chart));
                ctx.getOutputContainer().putText(chartText(chart));
            }),
            new Kind(TrainingRun.class, HTML, List.of(), (r, ctx) -> ctx.renderIfRequested(HTML, () -> runHtml((TrainingRun) r))),
            new Kind(Comparison.class, HTML, List.of(MIMEType.TEXT_PLAIN), (c, ctx) -> {
                ctx.renderIfRequested(HTML, () -> comparisonHtml((Comparison) c));
                ctx.renderIfRequested(MIMEType.TEXT_PLAIN, c::toString);
            }),
            new Kind(MemoryPlan.class, HTML, List.of(MIMEType.TEXT_PLAIN), (p, ctx) -> {
                ctx.renderIfRequested(HTML, () -> planHtml((MemoryPlan) p));
                ctx.renderIfRequested(MIMEType.TEXT_PLAIN, p::toString);
            }),
            new Kind(Sweep.class, HTML, List.of(MIMEType.TEXT_PLAIN), (w, ctx) -> {
                ctx.renderIfRequested(HTML, () -> sweepHtml((Sweep) w));
                ctx.renderIfRequested(MIMEType.TEXT_PLAIN, w::toString);
            }),
            new Kind(SweepPlan.class, HTML, List.of(MIMEType.TEXT_PLAIN), (p, ctx) -> {
                ctx.renderIfRequested(HTML, () -> sweepPlanHtml((SweepPlan) p));
                ctx.renderIfRequested(MIMEType.TEXT_PLAIN, p::toString);
            }),
            new Kind(SweepResult.class, HTML, List.of(MIMEType.TEXT_PLAIN), (r, ctx) -> {
                ctx.renderIfRequested(HTML, () -> sweepResultHtml((SweepResult) r));
                ctx.renderIfRequested(MIMEType.TEXT_PLAIN, r::toString);
            }),
            new Kind(PeftModel.class, HTML, List.of(), (m, ctx) -> ctx.renderIfRequested(HTML, () -> peftHtml((PeftModel) m))),
            new Kind(Evaluator.TaskResult.class, HTML, List.of(),
                    (r, ctx) -> ctx.renderIfRequested(HTML, () -> taskHtml((Evaluator.TaskResult) r))),
            new Kind(TextDataset.class, HTML, List.of(), (d, ctx) -> ctx.renderIfRequested(HTML, () -> datasetHtml((TextDataset) d))),
            // configs and the other small records of oneml (LoRAConfig, TrainConfig, ModelConfig, ...)
            new Kind(Record.class, HTML, List.of(), (r, ctx) -> {
                if (r.getClass().getName().startsWith("oneml.")) {
                    ctx.renderIfRequested(HTML, () -> recordHtml((Record) r));
                }
            }));

    @SuppressWarnings("unchecked")
    static void registerAll(Renderer renderer) {
        for (Kind kind : KINDS) {
            renderer.createRegistration((Class<Object>) kind.type()).preferring(kind.preferred())
                    .supporting(kind.others().toArray(MIMEType[]::new))
                    .register((value, ctx) -> guarded(ctx, () -> kind.render().render(value, ctx)));
        }
    }

    private static void guarded(RenderContext ctx, Runnable render) {
        try {
            render.run();
        } catch (RuntimeException | LinkageError e) {
            ctx.getOutputContainer().putText("(could not render: " + e + ")");
        }
    }

    static String tableHtml(Table t) {
        Table shown = t.rowCount() > TABLE_ROWS ? t.first(TABLE_ROWS) : t;
        StringWriter out = new StringWriter();
        try {
            new HtmlWriter().write(shown, HtmlWriteOptions.builder(out).escapeText(true).build());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        StringBuilder s = new StringBuilder("<div class=\"oneml-table\">");
        if (t.name() != null && !t.name().isBlank()) {
            s.append("<div><b>").append(escape(t.name())).append("</b></div>");
        }
        s.append(out);
        s.append("<div style=\"color:#666\">").append(String.format(Locale.ROOT, "%,d rows × %,d columns", t.rowCount(), t.columnCount()));
        if (t.rowCount() > TABLE_ROWS) {
            s.append(String.format(Locale.ROOT, " (first %d shown)", TABLE_ROWS));
        }
        return s.append("</div></div>").toString();
    }

    /** A chart's text/plain: its kind and title, e.g. {@code XYChart "Training and validation loss"}. */
    static String chartText(Chart<?, ?> chart) {
        return chart.getClass().getSimpleName() + (chart.getTitle() == null || chart.getTitle().isEmpty() ? "" : " \"" + chart.getTitle() + "\"");
    }

    /** A chart as a display of its own: the PNG and {@link #chartText}. */
    static DisplayData chartData(Chart<?, ?> chart) {
        DisplayData d = new DisplayData(chartText(chart));
        d.putData(PNG, png(chart));
        return d;
    }

    static String png(Chart<?, ?> chart) {
        try {
            return Base64.getEncoder().encodeToString(BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String svg(Chart<?, ?> chart) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            VectorGraphicsEncoder.saveVectorGraphic(chart, out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    static String runHtml(TrainingRun r) {
        StringBuilder s = new StringBuilder("<div class=\"oneml-run\"><b>TrainingRun</b>: ")
                .append(escape(String.valueOf(r.stopReason()))).append(" after ").append(r.stepsRun()).append(" steps")
                .append(r.message() == null || r.message().isEmpty() ? "" : " (" + escape(r.message()) + ")")
                .append("<table>");
        row(s, "time", String.format(Locale.ROOT, "%.1f s in all, %.1f s of it in training steps (validations are the rest)", r.seconds(),
                r.trainingSeconds()));
        row(s, "speed", String.format(Locale.ROOT, "%,.0f tokens/s in a median training step after warm-up (a noisy figure on a shared"
                + " machine; ./oneml bench measures speed)", r.steadyTokensPerSecond()));
        row(s, "trainable parameters", String.format(Locale.ROOT, "%,d", r.trainableParameters()));
        row(s, "final train loss", String.format(Locale.ROOT, "%.4f (mean of the last tenth of the steps)", r.finalTrainLoss()));
        if (r.evaluations().rowCount() > 0) {
            row(s, "validation loss", String.format(Locale.ROOT, "%.4f at the first check → best %.4f at step %d",
                    r.firstValidationLoss(), r.bestValidationLoss(), r.bestStep()));
        }
        row(s, "config", escape(String.valueOf(r.config())));
        return s.append("</table><div style=\"color:#666\">history(): ").append(r.history().rowCount())
                .append(" steps, evaluations(): ").append(r.evaluations().rowCount()).append(" checks</div></div>").toString();
    }

    static String comparisonHtml(Comparison c) {
        Table t = c.table().removeColumns("learning_rate");
        if (c.results().stream().allMatch(r -> r.message().isEmpty())) {
            t = t.removeColumns("message");
        }
        return "<div class=\"oneml-comparison\"><div>" + escape(String.format(Locale.ROOT,
                "%s on %s, %d steps per method; untrained accuracy %.3f on %d test rows; memory is the counted model plus the measured increase while training",
                c.dataset(), c.model(), c.steps(), c.baselineMetric(), c.testRows())) + "</div>" + tableHtml(t) + "</div>";
    }

    static String planHtml(MemoryPlan p) {
        return "<div class=\"oneml-plan\"><div>" + escape(p.shape().toString()) + "</div>" + tableHtml(p.table()) + "</div>";
    }

    /** Values of a field shown before "… (N values)". */
    static final int SHOWN_VALUES = 8;

    /** A sweep: its settings and its plan (trials per space, the swept fields and their values, the fixed ones). */
    static String sweepHtml(Sweep w) {
        String head = w.toString().lines().findFirst().orElse("Sweep");
        StringBuilder s = new StringBuilder("<div class=\"oneml-sweep\"><b>").append(escape(head)).append("</b>");
        SweepPlan plan;
        try {
            plan = w.plan();
        } catch (IllegalArgumentException e) {
            return s.append("<div style=\"color:#b00\">").append(escape("cannot plan: " + e.getMessage())).append("</div></div>").toString();
        }
        return s.append(planSummary(plan)).append("<div style=\"color:#666\">").append(escape("plan() lists the trials; run() runs them, "
                + "writing into " + w.out())).append("</div></div>").toString();
    }

    static String sweepPlanHtml(SweepPlan p) {
        return "<div class=\"oneml-sweep-plan\">" + planSummary(p) + tableHtml(p.table()) + "</div>";
    }

    /** "16 trials (8 lora, 8 dora), 2 seeds each", then a row per space: trials, swept fields with values, fixed fields. */
    private static String planSummary(SweepPlan p) {
        StringBuilder s = new StringBuilder("<div>").append(escape(p.toString().lines().findFirst().orElse(""))).append("</div>");
        s.append("<table><tr><th style=\"text-align:left\">space</th><th>trials</th><th style=\"text-align:left\">swept</th>"
                + "<th style=\"text-align:left\">fixed</th></tr>");
        Map<String, Integer> counts = p.countsByName();
        p.values().forEach((name, fields) -> {
            List<String> swept = new ArrayList<>();
            List<String> fixed = new ArrayList<>();
            fields.forEach((field, values) -> {
                if (values.size() > 1) {
                    List<String> shown = values.size() > SHOWN_VALUES ? values.subList(0, SHOWN_VALUES) : values;
                    swept.add(field + " ∈ {" + String.join(", ", shown) + (values.size() > SHOWN_VALUES ? ", … (" + values.size() + " values)" : "") + "}");
                } else {
                    fixed.add(field + "=" + values.get(0));
                }
            });
            s.append("<tr><td style=\"text-align:left\"><b>").append(escape(name)).append("</b></td><td>").append(counts.get(name))
                    .append("</td><td style=\"text-align:left\">").append(escape(swept.isEmpty() ? "(nothing: seeds only)" : String.join("; ", swept)))
                    .append("</td><td style=\"text-align:left;color:#666;white-space:normal\">").append(escape(String.join(", ", fixed)))
                    .append("</td></tr>");
        });
        s.append("</table>");
        long refused = p.trials().stream().filter(t -> t.problem() != null).count();
        if (refused > 0) {
            s.append("<div style=\"color:#b00\">").append(refused).append(refused == 1 ? " trial cannot run" : " trials cannot run")
                    .append(" (its config refuses the combination; it becomes a FAILED row)</div>");
        }
        return s.toString();
    }

    /**
     * A sweep's results: a summary line, each space's best configuration and every configuration over seeds (the swept
     * fields, n, and the main metrics' means and standard deviations), the sweep's first chart, and the failures.
     */
    static String sweepResultHtml(SweepResult r) {
        List<String> swept = r.sweptFields();
        StringBuilder s = new StringBuilder("<div class=\"oneml-sweep-result\"><b>SweepResult</b>: ").append(escape(String.format(Locale.ROOT,
                "%s on %s, %d trials, %d failed%s", r.data(), r.model(), r.trials().size(), r.failedCount(),
                swept.isEmpty() ? "" : "; swept: " + String.join(", ", swept))));
        s.append("<div><b>Best per space</b> (lowest mean best_val_loss over seeds)</div>").append(tableHtml(summary(r.best("best_val_loss"), swept)));
        s.append("<div><b>Every configuration</b>, mean and std over seeds (aggregates())</div>")
                .append(tableHtml(summary(r.aggregates(), swept)));
        Map<String, Chart<?, ?>> charts = r.charts();
        if (!charts.isEmpty()) {
            Chart<?, ?> chart = charts.values().iterator().next();
            s.append("<img alt=\"").append(escape(chart.getTitle())).append("\" src=\"data:image/png;base64,").append(png(chart)).append("\">");
            if (charts.size() > 1) {
                s.append("<div style=\"color:#666\">").append(escape("more: chart(metric, field), heatmap(metric, x, y), pareto(cost, quality); "
                        + "charts() has the report's " + charts.size())).append("</div>");
            }
        }
        String failed = r.trials().stream().filter(t -> t.status() == TrialResult.Status.FAILED).map(t -> t.trial().id() + ": " + t.message())
                .reduce((a, b) -> a + "; " + b).orElse("");
        if (!failed.isEmpty()) {
            s.append("<div style=\"color:#b00\">").append(escape("failed: " + failed)).append("</div>");
        }
        return s.append("</div>").toString();
    }

    /** An aggregates table cut to what a reader compares: space, the swept fields, n, failed and the main metrics. */
    private static Table summary(Table aggregates, List<String> swept) {
        List<String> keep = new ArrayList<>();
        keep.add("name");
        keep.addAll(swept);
        keep.addAll(List.of("n", "failed", "best_val_loss_mean", "best_val_loss_std", "accuracy_mean", "accuracy_std", "peak_mb_mean", "train_s_mean"));
        Table t = aggregates.selectColumns(keep.stream().filter(aggregates::containsColumn).toArray(String[]::new));
        t.setName(aggregates.name());
        return ComparisonReport.formatted(t);
    }

    static String peftHtml(PeftModel m) {
        StringBuilder s = new StringBuilder("<div class=\"oneml-peft\"><b>PeftModel</b> on ")
                .append(escape(String.valueOf(m.model().config()))).append("<table><tr><th></th><th>adapter</th><th>config</th>"
                        + "<th>modules</th><th>merged</th></tr>");
        for (Map.Entry<String, Adapter> e : m.adapters().entrySet()) {
            Adapter a = e.getValue();
            s.append("<tr><td>").append(e.getKey().equals(m.activeAdapter()) ? "●" : "").append("</td><td>")
                    .append(escape(a.name())).append("</td><td>").append(escape(String.valueOf(a.config()))).append("</td><td>")
                    .append(a.targets().size()).append("</td><td>").append(a.isMerged() ? "yes" : "no").append("</td></tr>");
        }
        return s.append("</table><div>").append(escape(m.trainableParametersSummary())).append("</div></div>").toString();
    }

    static String taskHtml(Evaluator.TaskResult r) {
        StringBuilder s = new StringBuilder("<div class=\"oneml-eval\"><b>")
                .append(String.format(Locale.ROOT, "accuracy %.3f</b> (%d of %d correct)", r.accuracy(), r.correct(), r.total()));
        if (r.predictions() != null && r.predictions().rowCount() > 0) {
            s.append(tableHtml(r.predictions().first(Math.min(5, r.predictions().rowCount()))));
        }
        return s.append("</div>").toString();
    }

    static String datasetHtml(TextDataset d) {
        StringBuilder s = new StringBuilder("<div class=\"oneml-dataset\"><b>").append(escape(d.name())).append("</b>: ")
                .append(String.format(Locale.ROOT, "train %,d, validation %,d, test %,d rows",
                        d.train().rowCount(), d.validation().rowCount(), d.test().rowCount()));
        if (d.train().rowCount() > 0) {
            s.append(tableHtml(d.train().first(Math.min(3, d.train().rowCount()))));
        }
        return s.append("</div>").toString();
    }

    static String recordHtml(Record r) {
        StringBuilder s = new StringBuilder("<div class=\"oneml-record\"><b>").append(escape(r.getClass().getSimpleName()))
                .append("</b><table>");
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Object value;
            try {
                value = c.getAccessor().invoke(r);
            } catch (ReflectiveOperationException | RuntimeException e) {
                value = "?";
            }
            String text = String.valueOf(value);
            if (text.length() > 200) {
                text = text.substring(0, 200) + "…";
            }
            row(s, c.getName(), escape(text));
        }
        return s.append("</table></div>").toString();
    }

    private static void row(StringBuilder s, String key, String valueHtml) {
        s.append("<tr><th style=\"text-align:left\">").append(escape(key)).append("</th><td style=\"text-align:left\">")
                .append(valueHtml).append("</td></tr>");
    }

    static String escape(String text) {
        StringBuilder s = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> s.append("&lt;");
                case '>' -> s.append("&gt;");
                case '&' -> s.append("&amp;");
                case '"' -> s.append("&quot;");
                default -> s.append(c);
            }
        }
        return s.toString();
    }
}
