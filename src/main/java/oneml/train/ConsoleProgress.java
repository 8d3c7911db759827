package oneml.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A text progress bar for the terminal and JShell: one line per tenth of the run (and per validation) so
 * it reads well in logs too. Throttled: never more than a line every half second unless it is news.
 */
public final class ConsoleProgress implements TrainingListener {
    private final PrintStream out;
    private int total;
    private int nextReport;
    private long lastPrint;

    public ConsoleProgress(PrintStream out) {
        this.out = out;
    }

    @Override
    public void onStart(int totalSteps, TrainConfig config, long trainableParameters) {
        total = totalSteps;
        nextReport = Math.max(1, totalSteps / 10);
        out.printf(Locale.ROOT, "training %,d parameters for %d steps: %s%n", trainableParameters, totalSteps, config);
    }

    @Override
    public void onStep(StepMetrics s) {
        long now = System.nanoTime();
        if (s.step() >= nextReport || s.step() == total) {
            if (now - lastPrint < 500_000_000L && s.step() != total) {
                return;
            }
            nextReport = s.step() + Math.max(1, total / 10);
            lastPrint = now;
            double eta = s.step() == 0 ? 0 : s.elapsedSeconds() / s.step() * (total - s.step());
            out.printf(Locale.ROOT, "%s %4d/%d  loss %.4f  lr %.2e  |g| %.3f  %,.0f tok/s  %s elapsed, ETA %s%n",
                    bar(s.step(), total), s.step(), total, s.loss(), s.learningRate(), s.gradNorm(), s.tokensPerSecond(),
                    time(s.elapsedSeconds()), time(eta));
        }
    }

    @Override
    public void onEvaluation(EvalMetrics e) {
        out.printf(Locale.ROOT, "  validation at step %d: loss %.4f, perplexity %.2f%s%n", e.step(), e.loss(), e.perplexity(),
                e.best() ? " (best)" : "");
    }

    @Override
    public void onNote(String note) {
        out.println(note);
    }

    @Override
    public void onEnd(TrainingRun run) {
        out.println(run);
    }

    static String bar(int step, int total) {
        int width = 20;
        int filled = total == 0 ? width : (int) Math.round((double) width * step / total);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
    }

    static String time(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
