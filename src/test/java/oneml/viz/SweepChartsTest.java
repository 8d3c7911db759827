package oneml.viz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/** The sweep charts drawn from hand-made tables: what each series, cell and front holds, the axes and the titles. */
class SweepChartsTest {

    /** Two spaces; lora at r 4 and 16 with 3 seeds each (one failed, NaN), ia3 once per seed at r NaN (no such field). */
    static Table trials() {
        Table t = Table.create("trials",
                StringColumn.create("name", "lora", "lora", "lora", "lora", "lora", "lora", "dora", "dora", "dora", "dora", "ia3"),
                DoubleColumn.create("r", 4, 4, 4, 16, 16, 16, 4, 4, 16, 16, Double.NaN),
                LongColumn.create("seed", 1, 2, 3, 1, 2, 3, 1, 2, 1, 2, 1),
                DoubleColumn.create("accuracy", 0.5, 0.6, 0.7, 0.8, Double.NaN, 0.9, 0.2, 0.4, 0.3, 0.3, 0.1),
                LongColumn.create("trainable_params", 100, 100, 100, 400, 400, 400, 120, 120, 480, 480, 50));
        return t;
    }

    @Test
    void aMetricAgainstAFieldHasASeriesPerSpaceWithSeedMeansAndStdErrorBars() throws IOException {
        XYChart chart = SweepCharts.metricAgainst(trials(), "accuracy", "r", List.of("name"), true, true);
        assertEquals(List.of("lora (n=2-3)", "dora (n=2)"), new ArrayList<>(chart.getSeriesMap().keySet()),
                "a series per space with a number for r (ia3 has none), n in the legend");
        XYSeries lora = chart.getSeriesMap().get("lora (n=2-3)");
        assertArrayEquals(new double[] {4, 16}, lora.getXData());
        assertArrayEquals(new double[] {0.6, 0.85}, lora.getYData(), 1e-12);
        // sample standard deviations, worked out by hand: sqrt(((0.1)^2 + 0 + (0.1)^2) / 2) and sqrt(2 * 0.05^2 / 1)
        assertArrayEquals(new double[] {0.1, Math.sqrt(0.005)}, lora.getExtraValues(), 1e-12);
        XYSeries dora = chart.getSeriesMap().get("dora (n=2)");
        assertArrayEquals(new double[] {0.3, 0.3}, dora.getYData(), 1e-12);
        assertArrayEquals(new double[] {Math.sqrt(0.02), 0}, dora.getExtraValues(), 1e-12);
        assertTrue(chart.getStyler().isXAxisLogarithmic());
        assertTrue(chart.getTitle().contains("accuracy against r") && chart.getTitle().contains("mean ± std over 2-3 seeds")
                && chart.getTitle().contains("higher is better"), chart.getTitle());
        assertEquals("r (log scale)", chart.getXAxisTitle());
        assertTrue(chart.getYAxisTitle().contains("accuracy") && chart.getYAxisTitle().contains("higher is better"), chart.getYAxisTitle());
        drawable(chart, "sweep-metric-vs-r");

        XYChart linear = SweepCharts.metricAgainst(trials(), "trainable_params", "r", List.of("name"), false, false);
        assertFalse(linear.getStyler().isXAxisLogarithmic());
        assertTrue(linear.getTitle().contains("lower is better"), linear.getTitle());
        assertArrayEquals(new double[] {0, 0}, linear.getSeriesMap().get("lora (n=3)").getExtraValues(), "the same value every seed: no spread");
    }

    @Test
    void otherSeriesColumnsSplitTheLinesAndNamesAreChecked() {
        Table t = trials();
        t.addColumns(DoubleColumn.create("learningRate", 0.002, 0.002, 0.002, 0.01, 0.01, 0.01, 0.002, 0.002, 0.002, 0.002, Double.NaN));
        XYChart chart = SweepCharts.metricAgainst(t, "accuracy", "r", List.of("name", "learningRate"), false, true);
        assertEquals(List.of("lora learningRate=0.002 (n=3)", "lora learningRate=0.01 (n=2)", "dora learningRate=0.002 (n=2)"),
                new ArrayList<>(chart.getSeriesMap().keySet()));
        var e = assertThrows(IllegalArgumentException.class, () -> SweepCharts.metricAgainst(t, "acc", "r", List.of("name"), false, true));
        assertTrue(e.getMessage().contains("no column 'acc'") && e.getMessage().contains("accuracy"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SweepCharts.metricAgainst(t, "accuracy", "name", List.of("name"), false, true));
        assertTrue(e.getMessage().contains("not numbers") && e.getMessage().contains("[r, seed, accuracy"), e.getMessage());
        Table withZero = trials();
        withZero.doubleColumn("r").set(0, 0.0);
        e = assertThrows(IllegalArgumentException.class, () -> SweepCharts.metricAgainst(withZero, "accuracy", "r", List.of("name"), true, true));
        assertTrue(e.getMessage().contains("log x axis needs every 'r' above zero"), e.getMessage());
    }

    @Test
    void aHeatmapHoldsEachCellsMeanWithTheValuesWritten() throws IOException {
        Table t = Table.create("trials",
                DoubleColumn.create("r", 4, 4, 4, 4, 16, 16, 16),
                DoubleColumn.create("learningRate", 0.002, 0.002, 0.01, 0.01, 0.002, 0.002, 0.01),
                DoubleColumn.create("best_val_loss", 1.0, 2.0, 0.5, 0.7, 0.4, Double.NaN, 0.2));
        HeatMapChart chart = SweepCharts.heatmap(t, "best_val_loss", "r", "learningRate", false, "lora");
        var series = chart.getHeatMapSeries();
        assertEquals(List.of("4", "16"), series.getXData(), "numbers in ascending order, written as people write them");
        assertEquals(List.of("0.002", "0.01"), series.getYData());
        List<String> cells = new ArrayList<>();
        for (Number[] c : series.getHeatData()) {
            cells.add(c[0] + "," + c[1] + "=" + SweepCharts.show(c[2].doubleValue()));
        }
        assertEquals(List.of("0,0=1.5", "0,1=0.6", "1,0=0.4", "1,1=0.2"), cells);
        assertTrue(chart.getStyler().isShowValue(), "each cell carries its value");
        assertEquals("lora: mean best_val_loss over seeds (n=1-2 per cell; lower is better, shown darker)", chart.getTitle());
        assertEquals("r", chart.getXAxisTitle());
        assertEquals("learningRate", chart.getYAxisTitle());
        drawable(chart, "sweep-heatmap");

        Table text = Table.create("trials", StringColumn.create("targetModules", "q,v", "q,k,v", "q,v"), DoubleColumn.create("r", 8, 8, 16),
                DoubleColumn.create("accuracy", 0.5, 0.6, 0.7));
        HeatMapChart mixed = SweepCharts.heatmap(text, "accuracy", "r", "targetModules", true, "");
        assertEquals(List.of("q,k,v", "q,v"), mixed.getHeatMapSeries().getYData(), "text values too");
        drawable(mixed, "sweep-heatmap-text");
    }

    @Test
    void theParetoFrontIsTheTrialsNoOtherBeatsOnBoth() throws IOException {
        // cost, accuracy: (100, .5) (100, .7) (200, .7) (300, .9) (300, .9) (400, .8) (50, .2) (NaN quality)
        double[] cost = {100, 100, 200, 300, 300, 400, 50};
        double[] acc = {0.5, 0.7, 0.7, 0.9, 0.9, 0.8, 0.2};
        assertEquals(List.of(6, 1, 3, 4), SweepCharts.paretoFront(cost, acc, true),
                "cheapest first; (100,.5) loses to (100,.7); (200,.7) ties on quality at a higher cost; both (300,.9) stay; (400,.8) loses");
        double[] loss = {0.5, 0.7, 0.7, 0.9, 0.9, 0.8, 0.2};
        assertEquals(List.of(6), SweepCharts.paretoFront(cost, loss, false), "lower loss is better: the cheapest is also the best");
        assertEquals(List.of(), SweepCharts.paretoFront(new double[0], new double[0], true));

        Table t = Table.create("trials", StringColumn.create("name", "lora", "lora", "dora", "dora", "dora", "ia3", "ia3", "lora"),
                LongColumn.create("trainable_params", 100, 100, 200, 300, 300, 400, 50, 10),
                DoubleColumn.create("accuracy", 0.5, 0.7, 0.7, 0.9, 0.9, 0.8, 0.2, Double.NaN));
        XYChart chart = SweepCharts.pareto(t, "trainable_params", "accuracy", "name", true, true);
        XYSeries front = chart.getSeriesMap().get("Pareto front (4)");
        assertArrayEquals(new double[] {50, 100, 300, 300}, front.getXData());
        assertArrayEquals(new double[] {0.2, 0.7, 0.9, 0.9}, front.getYData());
        assertEquals(List.of("lora (2)", "dora (3)", "ia3 (2)", "Pareto front (4)"), new ArrayList<>(chart.getSeriesMap().keySet()),
                "every trial with numbers, one colour per space (the NaN row left out)");
        assertTrue(chart.getStyler().isXAxisLogarithmic());
        assertTrue(chart.getTitle().startsWith("Pareto view of 7 trials: accuracy against trainable_params"), chart.getTitle());
        assertEquals("trainable_params per trial (log scale; lower is better)", chart.getXAxisTitle());
        assertEquals("accuracy per trial (higher is better)", chart.getYAxisTitle());
        drawable(chart, "sweep-pareto");
    }

    /** The chart draws (XChart throws on some data only when painting) into a PNG, kept in target/ to look at. */
    static void drawable(Chart<?, ?> chart, String name) throws IOException {
        byte[] png = ComparisonReport.png(chart);
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        assertTrue(image.getWidth() > 100 && image.getHeight() > 100);
        java.nio.file.Files.createDirectories(java.nio.file.Path.of("target", "charts"));
        java.nio.file.Files.write(java.nio.file.Path.of("target", "charts", name + ".png"), png);
    }
}
