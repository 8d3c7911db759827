package oneml.kernel;

import java.util.Locale;
import java.util.UUID;
import oneml.train.EvalMetrics;
import oneml.train.StepMetrics;
import oneml.train.TrainConfig;
import oneml.train.TrainingListener;
import oneml.train.TrainingRun;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

/**
 * Live training progress in a notebook cell: one display (a progress bar with step, loss, learning rate,
 * gradient norm, throughput, time and the last validation) updated in place with update_display_data, at most
 * every {@link #MIN_INTERVAL_NANOS} (every validation and the last step always). The kernel makes every
 * {@code Train...run()} in a cell use it instead of the console bar.
 */
public final class NotebookProgress implements TrainingListener {
    static final long MIN_INTERVAL_NANOS = 250_000_000L;

    private final OnemlKernel kernel;
    private final String id = UUID.randomUUID().toString();
    private int total;
    private long trainable;
    private long lastUpdate;
    private StepMetrics last;
    private EvalMetrics lastEval;
    private int updates;

    NotebookProgress(OnemlKernel kernel) {
        this.kernel = kernel;
    }

    /** How many displays and updates this listener published (tests check the throttling). */
    int updates() {
        return updates;
    }

    @Override
    public void onStart(int totalSteps, TrainConfig config, long trainableParameters) {
        total = totalSteps;
        trainable = trainableParameters;
        publish(render(null), false);
        lastUpdate = System.nanoTime();
    }

    @Override
    public void onStep(StepMetrics s) {
        last = s;
        long now = System.nanoTime();
        if (s.step() == total || now - lastUpdate >= MIN_INTERVAL_NANOS) {
            lastUpdate = now;
            publish(render(null), true);
        }
    }

    @Override
    public void onEvaluation(EvalMetrics e) {
        lastEval = e;
        lastUpdate = System.nanoTime();
        publish(render(null), true);
    }

    @Override
    public void onEnd(TrainingRun run) {
        publish(render(run), true);
    }

    private void publish(DisplayData data, boolean update) {
        data.setDisplayId(id);
        if (kernel.publish(data, update)) {
            updates++;
        }
    }

    DisplayData render(TrainingRun done) {
        int step = last == null ? 0 : last.step();
        StringBuilder text = new StringBuilder();
        StringBuilder html = new StringBuilder("<div style=\"font-family:monospace\">");
        if (done != null) {
            text.append("done: ").append(done);
            html.append("<progress value=\"").append(total).append("\" max=\"").append(Math.max(1, total))
                    .append("\" style=\"width:200px;vertical-align:middle\"></progress> ")
                    .append(Renderers.escape(String.format(Locale.ROOT, "%s after %d steps in %.1f s · final train loss %.4f%s",
                            done.stopReason(), done.stepsRun(), done.seconds(), done.finalTrainLoss(),
                            done.evaluations().rowCount() > 0
                                    ? String.format(Locale.ROOT, " · best val loss %.4f at step %d", done.bestValidationLoss(), done.bestStep())
                                    : "")));
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
