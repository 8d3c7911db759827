package oneml.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import oneml.Compare;
import oneml.LoRAConfig;
import oneml.compare.MethodResult.Status;
import oneml.data.Datasets;
import oneml.data.TextDataset;
import oneml.train.StepMetrics;
import oneml.train.TrainingListener;
import oneml.viz.ComparisonReport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

/**
 * Every method compared on the embedded default with a short budget (the same code path as {@code ./oneml compare}),
 * plus a method that cannot apply: one row each, values that make sense, files that reload.
 */
class CompareTest {
    static Comparison result;
    static Path out;
    static final List<String> namedRuns = new java.util.concurrent.CopyOnWriteArrayList<>();
    static int startedRuns;

    @BeforeAll
    static void runTheComparison(@TempDir Path tmp) throws IOException {
        TextDataset data = Datasets.sentiment();
        Compare compare = Compare.tiny(data).methods(Candidate.PRESETS).steps(30).evalEvery(10).evalLimit(40).quiet()
                .add("lora-typo", LoRAConfig.builder().targetModules("q_projj").build(), 5e-3)
                .listener(new TrainingListener() {
                    @Override
                    public void onRunName(String name) {
                        namedRuns.add(name);
                    }

                    @Override
                    public void onStart(int totalSteps, oneml.train.TrainConfig config, long trainable) {
                        startedRuns++;
                    }
                });
        result = compare.run();
        out = tmp;
        ComparisonReport.write(result, MemoryPlanner.of(ModelShape.tiny()).batchSize(16).sequenceLength(64).plan(), out);
        System.out.println(result);
    }

    @Test
    void aRowPerMethodAndTheFailureInItsOwnRow() {
        Table t = result.table();
        assertEquals(Candidate.PRESETS.size() + 1, t.rowCount());
        for (String m : Candidate.PRESETS) {
            MethodResult r = result.result(m);
            assertEquals(Status.OK, r.status(), r.toString());
            assertTrue(r.peakBytes() > 0 && r.tokensPerSecond() > 0 && r.trainSeconds() > 0, r.toString());
            assertTrue(r.metric() >= 0 && r.metric() <= 1, r.toString());
            assertTrue(r.adapterBytes() >= 4L * r.trainableParams(), "adapter file smaller than its float32 weights: " + r);
            // the model is counted, the peak measured; in a JVM that ran other work the peak can read below the model
            // (freed pages reused without the RSS growing), so the two are not compared here
            if (!m.equals("qlora")) { // float32 base: 4 bytes per base parameter, plus the method's own float32 arrays
                assertEquals(4L * r.allParams(), r.modelBytes(), 1024, "model memory of " + m);
            }
        }
        MethodResult typo = result.result("lora-typo");
        assertEquals(Status.FAILED, typo.status());
        assertTrue(typo.message().contains("q_projj") && typo.message().contains("v_proj"), typo.message());
    }

    @Test
    void trainableShareIsOrderedAsTheMethodFamiliesImply() {
        double lora = pct("lora");
        // the docs: prefix tuning ~0.01%, LoRA 0.1-1%, adapters 1-5%; prompt tuning and IA3 are the smallest
        for (String small : List.of("prompt", "prefix", "ia3")) {
            assertTrue(pct(small) < lora, small + " " + pct(small) + "% vs LoRA " + lora + "%");
        }
        assertTrue(lora > 0.1 && lora < 1, "LoRA r=8 on q,v: " + lora);
        assertTrue(pct("adapter") > 1 && pct("adapter") < 5, "adapter: " + pct("adapter"));
        assertEquals(100.0, pct("full"), 0.5);
        assertEquals(result.result("lora").trainableParams(), result.result("qlora").trainableParams());
        assertTrue(result.result("dora").trainableParams() > result.result("lora").trainableParams());
    }

    private static double pct(String m) {
        return result.result(m).trainablePercent();
    }

    @Test
    void qloraStoresItsBaseInAboutFourBits() {
        double bits = result.result("qlora").baseBitsPerParam();
        assertTrue(bits > 4.0 && bits < 4.6, "QLoRA base bits per parameter: " + bits);
        assertEquals(32.0, result.result("lora").baseBitsPerParam());
        // linear weights in ~4.1 bits, embeddings and norms still float32: about a fifth of LoRA's model
        double ratio = (double) result.result("qlora").modelBytes() / result.result("lora").modelBytes();
        assertTrue(ratio > 0.1 && ratio < 0.35, "QLoRA model / LoRA model: " + ratio);
    }

    @Test
    void lossCurvesGoDownAndTrainingHelps() {
        for (String m : Candidate.PRESETS) {
            MethodResult r = result.result(m);
            double[] loss = r.curve().doubleColumn("loss").asDoubleArray();
            assertEquals(30, loss.length, m);
            assertTrue(mean(loss, 0, 5) > mean(loss, 25, 30), m + ": training loss did not fall: " + mean(loss, 0, 5) + " -> " + mean(loss, 25, 30));
            assertTrue(r.bestValLoss() < r.firstValLoss(), m + ": validation loss did not fall");
            assertEquals(3, r.validations().rowCount(), m);
        }
        for (String m : List.of("full", "lora", "dora", "adapter")) {
            assertTrue(result.result(m).metric() >= result.baselineMetric() + 0.3, m + " accuracy " + result.result(m).metric()
                    + " vs untrained " + result.baselineMetric());
        }
    }

    private static double mean(double[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += v[i];
        }
        return s / (to - from);
    }

    @Test
    void resultsSaveAndReload() throws IOException {
        Comparison back = Comparison.load(out);
        assertEquals(result.table().write().toString("csv"), back.table().write().toString("csv"));
        assertEquals(result.curves().rowCount(), back.curves().rowCount());
        assertEquals(result.validationCurves().write().toString("csv"), back.validationCurves().write().toString("csv"));
        assertEquals(result.environment(), back.environment());
        Table csv = Table.read().csv(out.resolve(Comparison.CSV).toFile());
        assertEquals(result.results().size(), csv.rowCount());
        assertTrue(csv.columnNames().containsAll(List.of("method", "trainable_params", "trainable_pct", "adapter_bytes", "peak_mb", "train_s",
                "tokens_per_s", "final_train_loss", "best_val_loss", "accuracy")), csv.columnNames().toString());
    }

    @Test
    void reportEmbedsTablesAndChartsAndThePngsAreImages() throws IOException {
        String html = Files.readString(out.resolve(ComparisonReport.HTML));
        assertTrue(html.startsWith("<!DOCTYPE html>") && html.endsWith("</html>\n"));
        assertEquals(6, html.split("data:image/png;base64,", -1).length - 1, "six embedded charts");
        assertFalse(html.contains("src=\"http"), "the report must read offline");
        for (String m : Candidate.PRESETS) {
            assertTrue(html.contains("<td>" + m + "</td>"), m + " row missing from the report");
        }
        assertTrue(html.contains("Multi-task learning") && html.contains("Memory-constrained"), "the docs' table");
        // numbers as a person reads them: no raw doubles, thousands separators on counts
        var raw = java.util.regex.Pattern.compile(">-?\\d+\\.\\d{5,}<").matcher(html);
        assertFalse(raw.find(), "raw number in the report: " + (raw.find(0) ? raw.group() : ""));
        assertTrue(html.contains(">" + String.format(java.util.Locale.ROOT, "%,d", result.result("full").trainableParams()) + "<"),
                "trainable parameters with thousands separators");
        for (String png : ComparisonReport.charts(result, null).keySet()) {
            BufferedImage image = ImageIO.read(out.resolve(png).toFile());
            assertTrue(image != null && image.getWidth() >= 600, png);
        }
        assertTrue(Files.isRegularFile(out.resolve("memory_plan.png")));
    }

    @Test
    void theWarmUpIsUnseenAndEachRunIsNamed() {
        // the warm-up trains the first method a few steps before any is measured; no listener sees it
        assertEquals(Candidate.PRESETS.size(), startedRuns, "one training per method that applied, no warm-up run");
        assertEquals(Candidate.PRESETS.size(), namedRuns.size());
        for (int i = 0; i < Candidate.PRESETS.size(); i++) {
            assertTrue(namedRuns.get(i).startsWith(Candidate.PRESETS.get(i) + " ("), namedRuns.get(i));
        }
    }

    @Test
    void chartsSayWhatTheyDraw() {
        var loss = oneml.viz.ComparisonCharts.lossCurves(result);
        assertTrue(loss.getStyler().isYAxisLogarithmic() && loss.getTitle().contains("log"), "final losses 1000x apart need a log axis");
        var params = oneml.viz.ComparisonCharts.trainableParameters(result);
        assertEquals(1.0, params.getStyler().getYAxisMin(), "log-scale bars start at one parameter, not at a cut-off chosen for the data");
        assertTrue(params.getStyler().isLabelsVisible(), "each bar carries its count");
        String memory = oneml.viz.ComparisonCharts.peakMemory(result).getTitle();
        assertTrue(memory.contains("counted") && memory.contains("measured") && !memory.contains("RSS"), memory);
    }

    @Test
    void docsTableHasTheDocsColumnsFromMeasuredNumbers() {
        Table docs = result.docsTable();
        assertEquals(List.of("Method", "Trainable Params", "Best For", "Measured here"), docs.columnNames());
        assertEquals(Candidate.PRESETS.size(), docs.rowCount(), "failed methods are left out");
        int qlora = Candidate.PRESETS.indexOf("qlora");
        assertEquals("QLoRA", docs.getString(qlora, "Method"));
        assertEquals(Comparison.percent(pct("qlora")), docs.getString(qlora, "Trainable Params"));
    }

    @Test
    void anInterruptStopsTheComparisonAndKeepsTheRows() throws IOException {
        TextDataset data = Datasets.sentiment();
        TrainingListener stopButton = new TrainingListener() {
            @Override
            public void onStep(StepMetrics s) {
                if (s.step() == 2) {
                    Thread.currentThread().interrupt(); // what the notebook's stop button does to the cell's thread
                }
            }
        };
        Comparison c;
        try {
            c = Compare.tiny(data).methods("lora", "prefix").steps(50).evalLimit(5).quiet().listener(stopButton).run();
        } finally {
            Thread.interrupted();
        }
        MethodResult lora = c.result("lora");
        assertEquals(Status.INTERRUPTED, lora.status());
        assertEquals(2, lora.steps(), "stops after the current step");
        assertTrue(lora.hasNumbers() && lora.peakBytes() > 0, lora.toString());
        assertEquals(Status.SKIPPED, c.result("prefix").status());
        assertTrue(c.toString().contains("skipped"), c.toString());
    }

    @Test
    void badInputIsAClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> Candidate.preset("lorra"));
        assertTrue(e.getMessage().contains("lorra") && e.getMessage().contains("qlora"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Compare.tiny(Datasets.sentiment()).add(Candidate.preset("lora")).add(Candidate.preset("lora")));
        assertThrows(IllegalArgumentException.class, () -> Compare.tiny(Datasets.sentiment()).steps(0));
        var missing = assertThrows(IllegalArgumentException.class, () -> Comparison.load(Path.of("no-such-dir")));
        assertTrue(missing.getMessage().contains("results.json"), missing.getMessage());
    }
}
