package oneml.sweep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

/** SweepResult's charts and the report's charts and files, from hand-made trial results (nothing trains). */
class SweepChartsReportTest {
    static final SweepPlan PLAN = SweepFixtures.sweep().plan();
    /** One seed of lora r=16 lr=0.01 failed. */
    static final Trial FAILED = PLAN.trials().stream().filter(t -> Integer.valueOf(16).equals(t.config().get("r")) && t.learningRate() == 1e-2
            && t.seed() == 43).findFirst().orElseThrow();
    static final SweepResult RESULT = SweepFixtures.result(PLAN, t -> t.equals(FAILED));

    /** The sample standard deviation of the made-up loss over the seeds of lora (r, lr) that did not fail, from the trials. */
    static double[] lossesOf(int r, double lr) {
        return PLAN.trials().stream().filter(t -> t.method().equals("lora") && Integer.valueOf(r).equals(t.config().get("r"))
                && t.learningRate() == lr && !t.equals(FAILED)).mapToDouble(SweepFixtures::loss).toArray();
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    static double std(double[] v) {
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (v.length - 1));
    }

    @Test
    void sweptFieldsAreTheOnesThatVaryWithinASpace() {
        assertEquals(15, RESULT.trials().size());
        assertEquals(List.of("r", "learningRate"), RESULT.sweptFields());
    }

    @Test
    void aMetricAgainstAFieldIsALinePerSpaceAndOtherSweptValueWithSeedStdErrorBars() {
        XYChart chart = RESULT.chart("best_val_loss", "r");
        assertEquals(List.of("lora learningRate=0.002 (n=3)", "lora learningRate=0.01 (n=2-3)"), new ArrayList<>(chart.getSeriesMap().keySet()),
                "ia3 has no r; lora splits by the learning rate it also sweeps; the failed seed is not counted");
        assertTrue(chart.getStyler().isXAxisLogarithmic(), "r from 4 to 16: log x by default");
        for (double lr : new double[] {2e-3, 1e-2}) {
            XYSeries s = chart.getSeriesMap().values().stream().filter(x -> x.getName().contains("=" + (lr == 2e-3 ? "0.002" : "0.01") + " "))
                    .findFirst().orElseThrow();
            assertArrayEquals(new double[] {4, 16}, s.getXData());
            assertArrayEquals(new double[] {mean(lossesOf(4, lr)), mean(lossesOf(16, lr))}, s.getYData(), 1e-12);
            assertArrayEquals(new double[] {std(lossesOf(4, lr)), std(lossesOf(16, lr))}, s.getExtraValues(), 1e-12, "error bars: std over seeds");
        }
        assertEquals(2, lossesOf(16, 1e-2).length);
        assertTrue(chart.getTitle().equals("best_val_loss against r, mean ± std over 2-3 seeds (lower is better)"), chart.getTitle());
        assertFalse(RESULT.chart("best_val_loss", "r", false).getStyler().isXAxisLogarithmic());

        XYChart byLr = RESULT.chart("accuracy", "learningRate");
        assertEquals(List.of("lora r=4 (n=3)", "lora r=16 (n=2-3)", "ia3 (n=3)"), new ArrayList<>(byLr.getSeriesMap().keySet()),
                "ia3 has a learning rate too: one point");
        assertTrue(byLr.getTitle().contains("higher is better"), byLr.getTitle());
    }

    @Test
    void unknownNamesAreErrorsNamingWhatExists() {
        var e = assertThrows(IllegalArgumentException.class, () -> RESULT.chart("loss", "r"));
        assertTrue(e.getMessage().contains("unknown metric 'loss'; choose from [best_val_loss, final_train_loss, accuracy, tokens_per_s, peak_mb, train_s,"
                + " trainable_params]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RESULT.chart("accuracy", "rank"));
        assertTrue(e.getMessage().contains("unknown field 'rank'; the swept fields are [r, learningRate], all fields [r, alpha, dropout"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RESULT.chart("accuracy", "targetModules"));
        assertTrue(e.getMessage().contains("field 'targetModules' is not a number") && e.getMessage().contains("[r, learningRate]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RESULT.heatmap("accuracy", "r", "alpha"));
        assertTrue(e.getMessage().contains("no space sweeps both 'r' and 'alpha'; the swept fields per space are {lora=[r, learningRate], ia3=[]}"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RESULT.heatmap("dora", "accuracy", "r", "learningRate"));
        assertTrue(e.getMessage().contains("no space 'dora'; the spaces are [lora, ia3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RESULT.pareto("params", "accuracy"));
        assertTrue(e.getMessage().contains("unknown cost 'params'; choose from [trainable_params, peak_mb, train_s]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RESULT.pareto("peak_mb", "tokens_per_s"));
        assertTrue(e.getMessage().contains("unknown quality 'tokens_per_s'; choose from [best_val_loss, final_train_loss, accuracy]"), e.getMessage());
    }

    @Test
    void theHeatmapIsTheSeedMeanOfEachPairOfValues() {
        HeatMapChart chart = RESULT.heatmap("best_val_loss", "r", "learningRate");
        assertEquals(List.of("4", "16"), chart.getHeatMapSeries().getXData());
        assertEquals(List.of("0.002", "0.01"), chart.getHeatMapSeries().getYData());
        List<String> cells = new ArrayList<>();
        for (Number[] c : chart.getHeatMapSeries().getHeatData()) {
            cells.add(c[0] + "," + c[1]);
            int r = c[0].intValue() == 0 ? 4 : 16;
            double lr = c[1].intValue() == 0 ? 2e-3 : 1e-2;
            assertEquals(mean(lossesOf(r, lr)), c[2].doubleValue(), 1e-12, r + " x " + lr);
        }
        assertEquals(List.of("0,0", "0,1", "1,0", "1,1"), cells);
        assertTrue(chart.getTitle().startsWith("lora: mean best_val_loss over seeds (n=2-3 per cell; lower is better"), chart.getTitle());
    }

    @Test
    void theParetoFrontIsEveryTrialThatNoOtherBeatsOnBoth() {
        XYChart chart = RESULT.pareto("trainable_params", "best_val_loss");
        List<TrialResult> ok = RESULT.trials().stream().filter(t -> t.status() == TrialResult.Status.OK).toList();
        // brute force: not dominated by any other trial
        List<double[]> front = new ArrayList<>();
        for (TrialResult a : ok) {
            boolean dominated = false;
            for (TrialResult b : ok) {
                double ca = a.result().trainableParams();
                double cb = b.result().trainableParams();
                double qa = a.result().bestValLoss();
                double qb = b.result().bestValLoss();
                dominated |= cb <= ca && qb <= qa && (cb < ca || qb < qa);
            }
            if (!dominated) {
                front.add(new double[] {a.result().trainableParams(), a.result().bestValLoss()});
            }
        }
        front.sort((x, y) -> x[0] != y[0] ? Double.compare(x[0], y[0]) : Double.compare(x[1], y[1]));
        XYSeries line = chart.getSeriesMap().get("Pareto front (" + front.size() + ")");
        assertArrayEquals(front.stream().mapToDouble(p -> p[0]).toArray(), line.getXData());
        assertArrayEquals(front.stream().mapToDouble(p -> p[1]).toArray(), line.getYData(), 1e-12);
        assertTrue(front.size() >= 2, "the made-up numbers trade parameters against loss");
        assertTrue(chart.getSeriesMap().containsKey("lora (11)") && chart.getSeriesMap().containsKey("ia3 (3)"), chart.getSeriesMap().keySet().toString());
        assertTrue(chart.getStyler().isXAxisLogarithmic(), "1,536 to 57,344 parameters");
    }

    @Test
    void theReportHasTheChartsThatMakeSenseAsPngsAndInline(@TempDir Path dir) throws IOException {
        assertEquals(List.of("best_val_loss_vs_r.png", "accuracy_vs_r.png", "best_val_loss_vs_learningRate.png", "accuracy_vs_learningRate.png",
                "heatmap_lora_best_val_loss_r_learningRate.png", "heatmap_lora_accuracy_r_learningRate.png",
                "pareto_trainable_params_best_val_loss.png", "pareto_peak_mb_best_val_loss.png", "pareto_train_s_best_val_loss.png"),
                new ArrayList<>(RESULT.charts().keySet()));
        Path report = SweepReport.write(RESULT, dir);
        String html = Files.readString(report);
        List<String> pngs = new ArrayList<>(RESULT.charts().keySet());
        pngs.add(SweepReport.LOSS_CURVES);
        for (String png : pngs) {
            byte[] bytes = Files.readAllBytes(dir.resolve(png));
            assertTrue(bytes.length > 1000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', png);
            assertTrue(html.contains("src=\"data:image/png;base64," + Base64.getEncoder().encodeToString(bytes) + "\""), png + " inline in the report");
        }
        assertTrue(html.contains("<h2>Charts</h2>") && html.contains("alt=\"best_val_loss against r, mean ± std over 2-3 seeds (lower is better)\""),
                "each image is described by its title");
        assertTrue(html.contains("Best configuration per method") && html.contains("Every trial"));
        assertTrue(Files.isRegularFile(dir.resolve(SweepResult.JSON)) && Files.isRegularFile(dir.resolve(SweepResult.CSV)));
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".")), "no temporary files left: every file written atomically");
        }

        // a sweep where every trial failed still gets its report, without charts
        SweepResult none = SweepFixtures.result(PLAN, t -> true);
        assertTrue(none.charts().isEmpty());
        Path empty = dir.resolve("failed");
        assertTrue(Files.readString(SweepReport.write(none, empty)).contains("Failed:"));
    }
}
