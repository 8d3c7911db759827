package oneml.viz;

import oneml.train.TrainingRun;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import tech.tablesaw.api.Table;
import tech.tablesaw.api.NumberColumn;

/**
 * Charts of training runs with XChart; in the Jupyter kernel a chart displays as a PNG.
 * {@code Charts.loss(run)}: training loss per step (light), its moving average, and validation loss.
 */
public final class Charts {
    private Charts() {}

    /** Training loss (raw and smoothed over {@code max(1, steps/20)} steps) and validation loss against the step. */
    public static XYChart loss(TrainingRun run) {
        return loss(run, "Training and validation loss");
    }

    public static XYChart loss(TrainingRun run, String title) {
        Table h = run.history();
        Table e = run.evaluations();
        double[] none = new double[0];
        return loss(h.rowCount() > 0 ? doubles(h, "step") : none, h.rowCount() > 0 ? doubles(h, "loss") : none,
                e.rowCount() > 0 ? doubles(e, "step") : none, e.rowCount() > 0 ? doubles(e, "val_loss") : none, title);
    }

    /**
     * The same chart from plain arrays: training loss per step (raw and smoothed) and validation loss points
     * (the Jupyter kernel draws it live while a run trains).
     */
    public static XYChart loss(double[] steps, double[] trainLoss, double[] validationSteps, double[] validationLoss, String title) {
        XYChart chart = fitTitle(new XYChartBuilder().width(640).height(360).title(title).xAxisTitle("step").yAxisTitle("loss (cross-entropy)").build());
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        chart.getStyler().setMarkerSize(5);
        if (steps.length > 0) {
            XYSeries raw = chart.addSeries("train loss", steps, trainLoss);
            raw.setMarker(SeriesMarkers.NONE);
            raw.setLineColor(new java.awt.Color(0x1f, 0x77, 0xb4, 90));
            int window = Math.max(1, steps.length / 20);
            if (window > 1) {
                XYSeries smooth = chart.addSeries("train loss (moving average of " + window + ")", steps, movingAverage(trainLoss, window));
                smooth.setMarker(SeriesMarkers.NONE);
                smooth.setLineColor(new java.awt.Color(0x1f, 0x77, 0xb4));
            }
        }
        if (validationSteps.length > 0) {
            XYSeries val = chart.addSeries("validation loss", validationSteps, validationLoss);
            val.setMarker(SeriesMarkers.CIRCLE);
            val.setLineColor(new java.awt.Color(0xff, 0x7f, 0x0e));
            val.setMarkerColor(new java.awt.Color(0xff, 0x7f, 0x0e));
        }
        return chart;
    }

    /**
     * Shrinks the title's font (down to 9 points) until the title fits the chart's width: XChart neither wraps nor
     * shortens a title, it clips it at the edges, and a clipped title hides what is drawn.
     */
    public static <C extends org.knowm.xchart.internal.chartpart.Chart<?, ?>> C fitTitle(C chart) {
        var styler = chart.getStyler();
        java.awt.Font font = styler.getChartTitleFont();
        var g = new java.awt.image.BufferedImage(1, 1, java.awt.image.BufferedImage.TYPE_INT_ARGB).createGraphics();
        try {
            int room = chart.getWidth() - 2 * styler.getChartPadding() - 8;
            while (font.getSize2D() > 9 && g.getFontMetrics(font).stringWidth(chart.getTitle()) > room) {
                font = font.deriveFont(font.getSize2D() - 0.5f);
            }
        } finally {
            g.dispose();
        }
        styler.setChartTitleFont(font);
        return chart;
    }

    /** A simple titled line chart of {@code y} against {@code x} columns of a table. */
    public static XYChart line(Table table, String x, String y, String title) {
        XYChart chart = new XYChartBuilder().width(640).height(360).title(title).xAxisTitle(x).yAxisTitle(y).build();
        chart.addSeries(y, doubles(table, x), doubles(table, y)).setMarker(SeriesMarkers.NONE);
        return chart;
    }

    static double[] doubles(Table t, String column) {
        NumberColumn<?, ?> c = (NumberColumn<?, ?>) t.column(column);
        double[] out = new double[c.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = c.getDouble(i);
        }
        return out;
    }

    /** Mean of the last {@code window} values at each position (fewer at the start). */
    static double[] movingAverage(double[] values, int window) {
        double[] out = new double[values.length];
        double sum = 0;
        for (int i = 0; i < values.length; i++) {
            sum += values[i];
            if (i >= window) {
                sum -= values[i - window];
            }
            out[i] = sum / Math.min(i + 1, window);
        }
        return out;
    }
}
