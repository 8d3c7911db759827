package oneml.viz;

import java.awt.Color;
import java.util.ArrayList;
import java.util.List;
import oneml.compare.Comparison;
import oneml.compare.MemoryEstimate;
import oneml.compare.MemoryPlan;
import oneml.compare.MethodResult;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The charts of a comparison, each titled and with labelled axes: loss curves of every method on one chart, bars of
 * trainable parameters (log scale), memory and throughput, task quality against the trainable share (the Pareto
 * view), and the memory planner's stacked bars.
 */
public final class ComparisonCharts {
    /** One colour per method, in the comparison's order (matplotlib's tab10, which readers know). */
    static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
        new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)
    };

    private ComparisonCharts() {}

    /**
     * Training loss (moving average) as lines and validation loss as dots, per method, against the step, on a log
     * axis: final losses a thousand times apart (0.0006 and 0.6) would otherwise all sit on zero.
     */
    public static XYChart lossCurves(Comparison c) {
        XYChart chart = Charts.fitTitle(new XYChartBuilder().width(820).height(420)
                .title("Loss per method on " + c.dataset() + " (log scale; lines: training, moving average; dots: validation)")
                .xAxisTitle("step").yAxisTitle("loss (cross-entropy, nats per token, log scale)").build());
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE); // inside, it hid the lines' ends
        chart.getStyler().setMarkerSize(6);
        List<MethodResult> shown = withNumbers(c);
        for (int i = 0; i < shown.size(); i++) {
            MethodResult r = shown.get(i);
            Color color = PALETTE[i % PALETTE.length];
            double[] steps = r.curve().doubleColumn("step").asDoubleArray();
            if (steps.length > 0) {
                double[] loss = r.curve().doubleColumn("loss").asDoubleArray();
                XYSeries line = chart.addSeries(r.name() + " train", steps, Charts.movingAverage(loss, Math.max(1, steps.length / 15)));
                line.setMarker(SeriesMarkers.NONE);
                line.setLineColor(color);
            }
            if (r.validations().rowCount() > 0) {
                XYSeries val = chart.addSeries(r.name() + " validation", r.validations().doubleColumn("step").asDoubleArray(),
                        r.validations().doubleColumn("val_loss").asDoubleArray());
                val.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                val.setMarker(SeriesMarkers.CIRCLE);
                val.setMarkerColor(color);
                val.setShowInLegend(false);
            }
        }
        return chart;
    }

    /**
     * Trainable parameters per method on a log scale: PEFT methods train 10x to 1000x fewer than full fine-tuning.
     * Bars on a log axis need a start above zero; they start at one parameter, so a bar's height is the count's
     * order of magnitude and no cut-off chosen for this data shortens the small ones. Each bar carries its count.
     */
    public static CategoryChart trainableParameters(Comparison c) {
        CategoryChart chart = bars("Trainable parameters per method (log scale, bars from 1)", "trainable parameters");
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setYAxisMin(1.0);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setYAxisDecimalPattern("#,##0"); // the bar labels use it too
        List<MethodResult> shown = withNumbers(c).stream().filter(r -> r.trainableParams() > 0).toList();
        if (!shown.isEmpty()) {
            chart.addSeries("trainable parameters", names(shown), values(shown, r -> (double) r.trainableParams()));
        }
        return chart;
    }

    /**
     * Memory per method: the model's arrays as trained (counted), and that plus the process's memory increase while
     * training (measured: the RSS high-water mark above the RSS once the model was loaded).
     */
    public static CategoryChart peakMemory(Comparison c) {
        CategoryChart chart = bars("Memory per method: model (counted) and model + measured increase while training", "MB");
        List<MethodResult> shown = withNumbers(c);
        chart.addSeries("model (as trained)", names(shown), values(shown, r -> r.modelBytes() / 1e6));
        chart.addSeries("peak while training", names(shown), values(shown, r -> r.peakBytes() / 1e6));
        chart.getStyler().setLegendVisible(true);
        return chart;
    }

    /** Training throughput per method (optimiser steps only). */
    public static CategoryChart tokensPerSecond(Comparison c) {
        List<MethodResult> shown = withNumbers(c);
        boolean busy = shown.stream().anyMatch(MethodResult::measuredOnBusyMachine);
        CategoryChart chart = bars("Training throughput per method (median step after warm-up)"
                + (busy ? "; * measured on a busy machine" : ""), "tokens per second");
        List<String> names = shown.stream().map(r -> r.measuredOnBusyMachine() ? r.name() + " *" : r.name()).toList();
        chart.addSeries("tokens/s", names, values(shown, MethodResult::tokensPerSecond));
        return chart;
    }

    /**
     * Task accuracy against the trainable share (log x), one marker per method, and the Pareto front: the methods no
     * other method beats on both fewer parameters and higher accuracy. The untrained model's accuracy is a dashed line.
     */
    public static XYChart qualityVsTrainable(Comparison c) {
        XYChart chart = Charts.fitTitle(new XYChartBuilder().width(720).height(420).title("Accuracy against trainable parameters (Pareto view)")
                .xAxisTitle("trainable parameters (% of the model, log scale)").yAxisTitle("test accuracy").build());
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setMarkerSize(10);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.05);
        List<MethodResult> shown = new ArrayList<>();
        for (MethodResult r : withNumbers(c)) {
            if (Double.isFinite(r.metric()) && r.trainablePercent() > 0) {
                shown.add(r);
            }
        }
        for (int i = 0; i < shown.size(); i++) {
            MethodResult r = shown.get(i);
            XYSeries s = chart.addSeries(r.name(), new double[] {r.trainablePercent()}, new double[] {r.metric()});
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            s.setMarkerColor(PALETTE[i % PALETTE.length]);
        }
        List<MethodResult> front = paretoFront(shown);
        if (front.size() > 1) {
            XYSeries line = chart.addSeries("Pareto front", front.stream().mapToDouble(MethodResult::trainablePercent).toArray(),
                    front.stream().mapToDouble(MethodResult::metric).toArray());
            line.setMarker(SeriesMarkers.NONE);
            line.setLineColor(Color.GRAY);
        }
        if (!shown.isEmpty() && Double.isFinite(c.baselineMetric())) {
            double lo = shown.stream().mapToDouble(MethodResult::trainablePercent).min().orElse(0.01);
            double hi = shown.stream().mapToDouble(MethodResult::trainablePercent).max().orElse(100);
            XYSeries base = chart.addSeries("untrained", new double[] {lo, hi}, new double[] {c.baselineMetric(), c.baselineMetric()});
            base.setMarker(SeriesMarkers.NONE);
            base.setLineColor(Color.LIGHT_GRAY);
            base.setLineStyle(new java.awt.BasicStroke(1.5f, java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER, 10f,
                    new float[] {6f, 4f}, 0f));
        }
        return chart;
    }

    /** The methods not dominated by another (fewer or equal parameters and higher or equal accuracy), by trainable share. */
    static List<MethodResult> paretoFront(List<MethodResult> results) {
        List<MethodResult> sorted = new ArrayList<>(results);
        sorted.sort((a, b) -> a.trainablePercent() != b.trainablePercent() ? Double.compare(a.trainablePercent(), b.trainablePercent())
                : Double.compare(b.metric(), a.metric()));
        List<MethodResult> front = new ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        for (MethodResult r : sorted) {
            if (r.metric() > best) {
                front.add(r);
                best = r.metric();
            }
        }
        return front;
    }

    /** The planner's estimate per method as stacked bars: weights, gradients, optimizer state, activations. */
    public static CategoryChart memoryPlan(MemoryPlan plan) {
        CategoryChart chart = bars(plan.title(), plan.unit());
        chart.getStyler().setStacked(true);
        chart.getStyler().setLegendVisible(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        double scale = plan.unit().equals("GB") ? 1e9 : 1e6;
        List<String> methods = plan.estimates().stream().map(MemoryEstimate::method).toList();
        chart.addSeries("weights", methods, plan.estimates().stream().map(e -> e.weights() / scale).toList());
        chart.addSeries("gradients", methods, plan.estimates().stream().map(e -> e.gradients() / scale).toList());
        chart.addSeries("optimizer state", methods, plan.estimates().stream().map(e -> e.optimizer() / scale).toList());
        chart.addSeries("activations", methods, plan.estimates().stream().map(e -> e.activations() / scale).toList());
        return chart;
    }

    private static CategoryChart bars(String title, String yTitle) {
        CategoryChart chart = Charts.fitTitle(new CategoryChartBuilder().width(720).height(400).title(title).xAxisTitle("method").yAxisTitle(yTitle).build());
        chart.getStyler().setDecimalPattern("#,##0.###"); // labels read 0.066, not .066
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setLabelsVisible(false);
        chart.getStyler().setXAxisLabelRotation(30);
        return chart;
    }

    private static List<MethodResult> withNumbers(Comparison c) {
        return c.results().stream().filter(MethodResult::hasNumbers).toList();
    }

    private static List<String> names(List<MethodResult> rs) {
        return rs.stream().map(MethodResult::name).toList();
    }

    private static List<Double> values(List<MethodResult> rs, java.util.function.ToDoubleFunction<MethodResult> f) {
        return rs.stream().map(r -> f.applyAsDouble(r)).toList();
    }
}
