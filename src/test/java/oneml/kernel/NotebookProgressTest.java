package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import oneml.train.EvalMetrics;
import oneml.train.StepMetrics;
import oneml.train.StopReason;
import oneml.train.TrainConfig;
import oneml.train.TrainingRun;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import tech.tablesaw.api.Table;

/**
 * The live displays of a training run in a notebook, driven step by step on a fake clock: a progress line and a
 * loss chart (PNG), each shown once and then updated in place under its own display id, throttled so a long run
 * sends a bounded number of images.
 */
class NotebookProgressTest {
    /** What the progress listener published, in order. */
    static final class Recorder implements NotebookProgress.Display {
        record Sent(DisplayData data, boolean update) {
            boolean isChart() {
                return data.hasDataForType(MIMEType.IMAGE_PNG);
            }
        }

        final List<Sent> sent = new ArrayList<>();
        final boolean attached;
        int attempts;
        TrainingRun ended;

        Recorder(boolean attached) {
            this.attached = attached;
        }

        @Override
        public boolean publish(DisplayData data, boolean update) {
            attempts++;
            if (attached) {
                sent.add(new Sent(data, update));
            }
            return attached;
        }

        @Override
        public void ended(TrainingRun run) {
            ended = run;
        }

        List<Sent> charts() {
            return sent.stream().filter(Sent::isChart).toList();
        }

        List<Sent> lines() {
            return sent.stream().filter(s -> !s.isChart()).toList();
        }
    }

    /** Runs {@code steps} steps of {@code secondsPerStep} fake seconds each, a validation every {@code evalEvery}. */
    static NotebookProgress simulate(Recorder display, int steps, double secondsPerStep, int evalEvery) {
        long[] now = {1_000_000_000L};
        NotebookProgress progress = new NotebookProgress(display, () -> now[0]);
        progress.onStart(steps, TrainConfig.builder().steps(steps).build(), 1234);
        for (int step = 1; step <= steps; step++) {
            now[0] += (long) (secondsPerStep * 1e9);
            progress.onStep(new StepMetrics(step, steps, 3.0 / step, 1e-3, 0.5, 1000, step * secondsPerStep));
            if (step % evalEvery == 0) {
                progress.onEvaluation(new EvalMetrics(step, 2.0 / step, Math.exp(2.0 / step), true));
            }
        }
        progress.onEnd(new TrainingRun(TrainConfig.builder().steps(steps).build(), Table.create("history"), Table.create("evaluations"),
                StopReason.COMPLETED, "", steps, steps * secondsPerStep, 1234, 1000L * steps, 0.01, steps));
        return progress;
    }

    @Test
    void theChartIsShownOnceThenUpdatedInPlaceAndThrottled() throws Exception {
        Recorder display = new Recorder(true);
        // 300 steps of 50 ms: 15 s, 6 validations
        NotebookProgress progress = simulate(display, 300, 0.05, 50);

        List<Recorder.Sent> charts = display.charts();
        assertFalse(charts.isEmpty(), "no chart was displayed");
        assertFalse(charts.get(0).update(), "the first chart message is a display_data");
        String id = charts.get(0).data().getDisplayId();
        assertNotNull(id, "the chart has a display id, so later images replace it");
        for (Recorder.Sent c : charts.subList(1, charts.size())) {
            assertTrue(c.update(), "later chart messages are update_display_data");
            assertEquals(id, c.data().getDisplayId());
        }
        // throttled: one image per 1.5 s of training, one per validation, the first step's and the end's at most
        int bound = (int) Math.ceil(15 / 1.5) + 6 + 2;
        assertTrue(charts.size() <= bound, charts.size() + " images for a 15 s run, more than " + bound);
        assertTrue(charts.size() >= 6, "every validation updates the chart: " + charts.size());
        assertEquals(charts.size(), progress.chartUpdates());

        // a real PNG of the titled chart, with the kernel's text/plain for charts
        byte[] png = Base64.getDecoder().decode(String.valueOf(charts.get(charts.size() - 1).data().getData(MIMEType.IMAGE_PNG)));
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        assertNotNull(image, "image/png does not decode as an image");
        assertEquals(640, image.getWidth());
        assertEquals("XYChart \"" + NotebookProgress.CHART_TITLE + "\"", charts.get(0).data().getData(MIMEType.TEXT_PLAIN));

        // the final chart holds every step and every validation
        XYChart last = progress.chart();
        XYSeries train = last.getSeriesMap().get("train loss");
        assertEquals(300, train.getXData().length);
        assertEquals(300.0, train.getXData()[299]);
        XYSeries val = last.getSeriesMap().get("validation loss");
        assertEquals(6, val.getXData().length);
        assertEquals("step", last.getXAxisTitle());
        assertEquals("loss (cross-entropy)", last.getYAxisTitle());

        // the progress line: its own display, throttled to 4 a second (plus validations and the end)
        List<Recorder.Sent> lines = display.lines();
        assertFalse(lines.get(0).update());
        String lineId = lines.get(0).data().getDisplayId();
        assertFalse(lineId.equals(id), "line and chart are separate displays");
        assertTrue(lines.stream().skip(1).allMatch(l -> l.update() && lineId.equals(l.data().getDisplayId())));
        int lineBound = (int) Math.ceil(15 / 0.25) + 6 + 3;
        assertTrue(lines.size() <= lineBound, lines.size() + " progress lines, more than " + lineBound);
        assertTrue(String.valueOf(lines.get(lines.size() - 1).data().getData(MIMEType.TEXT_PLAIN)).startsWith("done: "));
        assertEquals(lines.size(), progress.lineUpdates());
    }

    @Test
    void aNamedRunSaysWhichRunInTheChartTitle() {
        NotebookProgress progress = new NotebookProgress(new Recorder(true), () -> 0L);
        progress.onRunName("lora (LoRA r=8)"); // what a comparison sends for each method
        progress.onStart(2, TrainConfig.builder().steps(2).build(), 10);
        progress.onStep(new StepMetrics(1, 2, 1.0, 1e-3, 0.5, 100, 0.1));
        assertEquals("lora (LoRA r=8): training and validation loss", progress.chart().getTitle());
    }

    @Test
    void aFastRunStillEndsWithACompleteChart() {
        Recorder display = new Recorder(true);
        // 40 steps in 0.4 s: the throttle allows only the first image; validation and the end add the rest
        NotebookProgress progress = simulate(display, 40, 0.01, 20);
        List<Recorder.Sent> charts = display.charts();
        assertTrue(charts.size() >= 2 && charts.size() <= 4, "charts: " + charts.size());
        assertEquals(40, progress.chart().getSeriesMap().get("train loss").getXData().length);
        assertEquals(2, progress.chart().getSeriesMap().get("validation loss").getXData().length);
        assertNotNull(display.ended, "the kernel is told the run ended");
    }

    @Test
    void aMachineThatDrawsSlowlyGetsFewerImages() {
        Recorder display = new Recorder(true);
        long[] now = {0};
        // every reading of the clock finds half a second gone: drawing a chart "takes" 0.5 s
        NotebookProgress progress = new NotebookProgress(display, () -> now[0] += 500_000_000L);
        progress.onStart(300, TrainConfig.builder().steps(300).build(), 1234);
        for (int step = 1; step <= 300; step++) {
            progress.onStep(new StepMetrics(step, 300, 3.0 / step, 1e-3, 0.5, 1000, now[0] / 1e9));
            if (step % 50 == 0) {
                progress.onEvaluation(new EvalMetrics(step, 2.0 / step, Math.exp(2.0 / step), true));
            }
        }
        double seconds = now[0] / 1e9;
        int charts = display.charts().size();
        // the next image waits 20 times the drawing time (10 s), not the 1.5 s interval, so drawing stays at 5%
        assertTrue(charts <= seconds / 10 + 6 + 2, charts + " images in " + seconds + " s");
        assertTrue(charts >= 6, "validations still update the chart: " + charts);
    }

    @Test
    void longRunsAreThinnedAndKeepTheirLastStep() {
        Recorder display = new Recorder(true);
        NotebookProgress progress = simulate(display, 5001, 0.001, 100_000);
        double[] x = progress.chart().getSeriesMap().get("train loss").getXData();
        assertTrue(x.length <= NotebookProgress.CHART_POINTS, x.length + " points");
        assertEquals(5001.0, x[x.length - 1]);
    }

    @Test
    void withoutACellNothingIsRenderedPerStep() {
        Recorder display = new Recorder(false);
        NotebookProgress progress = simulate(display, 300, 0.05, 50);
        assertEquals(0, progress.chartUpdates());
        // attempts stay throttled as when a cell shows them (the chart is not re-rendered every step)
        assertTrue(display.attempts <= 100, display.attempts + " publish attempts for 300 steps");
    }
}
