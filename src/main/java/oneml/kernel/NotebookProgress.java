package oneml.kernel;

import java.util.Arrays;
import java.util.Locale;
import java.util.UUID;
import java.util.function.LongSupplier;
import oneml.train.EvalMetrics;
import oneml.train.StepMetrics;
import oneml.train.TrainConfig;
import oneml.train.TrainingListener;
import oneml.train.TrainingRun;
import oneml.viz.Charts;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.knowm.xchart.XYChart;

/**
 * Live training progress in a notebook cell, as two displays updated in place with update_display_data:
 * <ul>
 *   <li>a progress line (step, loss, learning rate, gradient norm, throughput, time, the last validation), at most
 *       every {@link #LINE_INTERVAL_NANOS};</li>
 *   <li>a loss chart (training loss per step and validation points, as {@link Charts#loss}), a PNG, so at most
 *       every {@link #CHART_INTERVAL_NANOS} (and at most 5% of the time drawing, on a slow machine), after each
 *       validation, and once at the end: a 300-step run sends a few dozen images, not hundreds. It appears after
 *       the first step.</li>
 * </ul>
 * Every validation and the end always update both. The kernel makes every {@code Train...run()} in a cell use
 * this listener instead of the console bar.
 */
public final class NotebookProgress implements TrainingListener {
    static final long LINE_INTERVAL_NANOS = 250_000_000L;
    static final long CHART_INTERVAL_NANOS = 1_500_000_000L;
    static final String CHART_TITLE = "Training and validation loss";
    /** Points the live chart draws at most (about one per pixel); longer runs are thinned, the last step always drawn. */
    static final int CHART_POINTS = 600;
    /** After drawing, the chart waits at least this many times as long as drawing took: at most 5% of the time. */
    static final int CHART_WAIT_FACTOR = 20;

    /** Where the displays go: the running cell in the kernel, a list in tests. */
    interface Display {
        /** Shows {@code data} (update false) or replaces the display with its id; false when no cell can show it. */
        boolean publish(DisplayData data, boolean update);

        /** The run ended (the kernel words its interrupt message from it). */
        default void ended(TrainingRun run) {}
    }

    private final Display display;
    private final LongSupplier clock;
    private final String lineId = UUID.randomUUID().toString();
    private final String chartId = UUID.randomUUID().toString();
    private int total;
    private String chartTitle = CHART_TITLE;
    private long trainable;
    private long lastLine;
    private long lastChart;
    private long chartGap = CHART_INTERVAL_NANOS;
    private boolean chartDrawn;
    private boolean chartFailed;
    private boolean chartShown;
    private boolean chartStale;
    private StepMetrics last;
    private EvalMetrics lastEval;
    private int lineUpdates;
    private int chartUpdates;
    // the history the chart draws, grown by doubling
    private double[] steps = new double[64];
    private double[] losses = new double[64];
    private int points;
    private double[] evalSteps = new double[8];
    private double[] evalLosses = new double[8];
    private int evals;

    NotebookProgress(Display display, LongSupplier clock) {
        this.display = display;
        this.clock = clock;
    }

    /** How many times the progress line was published (tests check the throttling). */
    int lineUpdates() {
        return lineUpdates;
    }

    /** How many chart images were published (tests check the throttling). */
    int chartUpdates() {
        return chartUpdates;
    }

    @Override
    public void onRunName(String name) {
        chartTitle = name + ": " + CHART_TITLE.toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public void onStart(int totalSteps, TrainConfig config, long trainableParameters) {
        total = totalSteps;
        trainable = trainableParameters;
        publishLine(render(null), false);
        lastLine = clock.getAsLong();
    }

    @Override
    public void onStep(StepMetrics s) {
        last = s;
        if (points == steps.length) {
            steps = Arrays.copyOf(steps, points * 2);
            losses = Arrays.copyOf(losses, points * 2);
        }
        steps[points] = s.step();
        losses[points] = s.loss();
        points++;
        chartStale = true;
        long now = clock.getAsLong();
        if (s.step() == total || now - lastLine >= LINE_INTERVAL_NANOS) {
            lastLine = now;
            publishLine(render(null), true);
        }
        if (!chartDrawn || now - lastChart >= chartGap) {
            publishChart();
        }
    }

    @Override
    public void onEvaluation(EvalMetrics e) {
        lastEval = e;
        if (evals == evalSteps.length) {
            evalSteps = Arrays.copyOf(evalSteps, evals * 2);
            evalLosses = Arrays.copyOf(evalLosses, evals * 2);
        }
        evalSteps[evals] = e.step();
        evalLosses[evals] = e.loss();
        evals++;
        chartStale = true;
        lastLine = clock.getAsLong();
        publishLine(render(null), true);
        publishChart();
    }

    /** Notes (which checkpoint a resumed run continues from) go to the cell's output as text. */
    @Override
    public void onNote(String note) {
        System.out.println(note);
    }

    @Override
    public void onEnd(TrainingRun run) {
        publishLine(render(run), true);
        if (chartStale) {
            publishChart();
        }
        display.ended(run);
    }

    private void publishLine(DisplayData data, boolean update) {
        data.setDisplayId(lineId);
        if (display.publish(data, update)) {
            lineUpdates++;
        }
    }

    private void publishChart() {
        if (chartFailed || points == 0 && evals == 0) {
            return; // nothing to draw yet (and XChart draws no empty chart)
        }
        chartDrawn = true;
        long start = clock.getAsLong();
        chartStale = false;
        DisplayData data;
        // Java2D reads its fonts through NIO channels the first time it draws text: on an interrupted thread that
        // fails, and the interrupt flag is consumed on the way, so the training loop would never see the stop
        // button. Draw with the flag cleared and set it again.
        boolean interrupted = Thread.interrupted();
        try {
            data = Renderers.chartData(chart());
        } catch (RuntimeException | LinkageError e) {
            chartFailed = true; // say so once; the training goes on
            data = new DisplayData("(could not render the loss chart: " + e + ")");
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        lastChart = clock.getAsLong();
        // a chart that took 100 ms to draw waits 2 s for the next, never less than the interval
        chartGap = Math.max(CHART_INTERVAL_NANOS, CHART_WAIT_FACTOR * (lastChart - start));
        data.setDisplayId(chartId);
        boolean update = chartShown;
        if (display.publish(data, update)) {
            chartShown = true;
            chartUpdates++;
        }
    }

    /** The chart of the history so far, thinned to at most about {@link #CHART_POINTS} training points. */
    XYChart chart() {
        int stride = Math.max(1, (points + CHART_POINTS - 1) / CHART_POINTS);
        int n = points == 0 ? 0 : (points - 1) / stride + 1;
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            // from the end backwards, so the latest step is always drawn
            int at = points - 1 - (n - 1 - i) * stride;
            x[i] = steps[at];
            y[i] = losses[at];
        }
        return Charts.loss(x, y, Arrays.copyOf(evalSteps, evals), Arrays.copyOf(evalLosses, evals), chartTitle);
    }

    DisplayData render(TrainingRun done) {
        int step = last == null ? 0 : last.step();
        StringBuilder text = new StringBuilder();
        StringBuilder html = new StringBuilder("<div style=\"font-family:monospace\">");
        if (done != null) {
            text.append("done: ").append(done);
            html.append("<progress value=\"").append(total).append("\" max=\"").append(Math.max(1, total))
                    .append("\" style=\"width:200px;vertical-align:middle\"></progress> ")
                    .append(Renderers.escape(String.format(Locale.ROOT, "%s after %d steps in %.1f s · final train loss %.4f%s%s",
                            done.stopReason(), done.stepsRun(), done.seconds(), done.finalTrainLoss(),
                            done.evaluations().rowCount() > 0
                                    ? String.format(Locale.ROOT, " · best val loss %.4f at step %d", done.bestValidationLoss(), done.bestStep())
                                    : "",
                            done.message() == null || done.message().isEmpty() ? "" : " · " + done.message())));
            return bundle(text, html);
        }
        int width = 20;
        int filled = total == 0 ? 0 : (int) Math.round((double) width * step / total);
        text.append('[').append("#".repeat(filled)).append(".".repeat(width - filled)).append("] ");
        html.append("<progress value=\"").append(step).append("\" max=\"").append(Math.max(1, total))
                .append("\" style=\"width:200px;vertical-align:middle\"></progress> ");
        String line;
        if (last == null) {
            line = String.format(Locale.ROOT, "0/%d steps, %,d trainable parameters", total, trainable);
        } else {
            double eta = step == 0 ? 0 : last.elapsedSeconds() / step * (total - step);
            line = String.format(Locale.ROOT, "%d/%d · loss %.4f · lr %.2e · |g| %.3f · %,.0f tok/s · %s, ETA %s",
                    step, total, last.loss(), last.learningRate(), last.gradNorm(), last.tokensPerSecond(),
                    time(last.elapsedSeconds()), time(eta));
        }
        if (lastEval != null) {
            line += String.format(Locale.ROOT, " · val loss %.4f (step %d)", lastEval.loss(), lastEval.step());
        }
        text.append(line);
        html.append(Renderers.escape(line));
        return bundle(text, html);
    }

    private static DisplayData bundle(StringBuilder text, StringBuilder html) {
        DisplayData d = new DisplayData(text.toString());
        d.putHTML(html.append("</div>").toString());
        return d;
    }

    static String time(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
