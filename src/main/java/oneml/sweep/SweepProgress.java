package oneml.sweep;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A sweep's progress as it runs: trials done (and how many of them failed), running and waiting, and an estimate of
 * the time left. A backend feeds it {@link #started(Trial)} when a trial starts and {@link #ended(TrialResult)} when its
 * result is in (from any thread); each event goes to a {@link Listener}: one line per event on the terminal, or the
 * notebook's display updated in place (the Jupyter kernel installs it with {@link #display(Supplier)}).
 *
 * <p>The ETA: the mean wall time of the trials finished so far in this run (from their start to their result, as this
 * class saw them), each running trial taking what it still lacks of that mean, and the waiting trials handed to
 * whichever of the {@code parallel} slots frees first; the ETA is when the last slot would be free. Before any trial has
 * finished it is unknown (NaN).
 */
public final class SweepProgress {
    /** What happened. */
    public enum Event { SWEEP_STARTED, TRIAL_STARTED, TRIAL_ENDED, SWEEP_ENDED }

    /**
     * The counts after an event: {@code done} includes the failed trials and those finished by an earlier run of the
     * same sweep; {@code etaSeconds} is NaN until a trial has finished; {@code meanTrialSeconds} is the mean wall time of
     * the trials finished in this run; {@code over}: the sweep has ended (the waiting trials, if any, were not started).
     */
    public record Status(int total, int done, int failed, int running, int waiting, double elapsedSeconds, double etaSeconds,
            double meanTrialSeconds, boolean over) {

        /** "3/8 done (1 failed), 2 running, 3 waiting, ETA 1:20"; at the end "8/8 done (1 failed) in 5:12". */
        public String summary() {
            StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%d/%d done", done, total));
            if (failed > 0) {
                s.append(" (").append(failed).append(" failed)");
            }
            if (over) {
                s.append(" in ").append(time(elapsedSeconds));
                if (waiting + running > 0) {
                    s.append(", ").append(waiting + running).append(" not started");
                }
            } else if (running > 0 || waiting > 0) {
                s.append(String.format(Locale.ROOT, ", %d running, %d waiting, ETA %s", running, waiting,
                        Double.isNaN(etaSeconds) ? "after the first trial" : time(etaSeconds)));
            } else {
                s.append(" in ").append(time(elapsedSeconds));
            }
            return s.toString();
        }
    }

    /** Receives every event, one at a time, in order. */
    public interface Listener {
        /**
         * @param status the counts after the event
         * @param what   the event in words, e.g. "start lora-3f2a…: lora r=8 … seed=42" or the trial's result line
         */
        void onEvent(Event event, Status status, String what);

        /** A remark that is not an event (the sweep was interrupted, ...). */
        default void note(String line) {
            System.out.println(line);
        }
    }

    private static volatile Supplier<? extends Listener> display;

    /**
     * Where the progress of sweeps that are not quiet goes instead of terminal lines: the Jupyter kernel installs a
     * display updated in place. The factory is asked once per sweep and may answer null (terminal lines);
     * {@code null} restores the terminal lines.
     */
    public static void display(Supplier<? extends Listener> factory) {
        display = factory;
    }

    /** One terminal line per trial event and at the end: "[3/8 done (1 failed), 2 running, 3 waiting, ETA 1:20] start ...". */
    public static Listener lines(Consumer<String> out) {
        return new Listener() {
            @Override
            public void onEvent(Event event, Status status, String what) {
                if (event != Event.SWEEP_STARTED) { // the sweep's own first line says as much
                    out.accept("[" + status.summary() + "] " + what);
                }
            }

            @Override
            public void note(String line) {
                out.accept(line);
            }
        };
    }

    /** Nothing shown (a quiet sweep). */
    static final Listener NONE = new Listener() {
        @Override
        public void onEvent(Event event, Status status, String what) {}

        @Override
        public void note(String line) {}
    };

    private final int total;
    private final int parallel;
    private final Listener listener;
    private final LongSupplier nanos;
    private final long start;
    private int done;
    private int failed;
    private boolean over;
    private final Map<String, Long> running = new LinkedHashMap<>(); // trial id -> when it started
    private final List<Double> durations = new ArrayList<>();

    /**
     * @param total         the plan's trials
     * @param earlier       results an earlier run of the sweep left (counted as done)
     * @param parallel      trials at a time
     * @param nanos         the clock ({@code System::nanoTime}; tests drive their own)
     */
    public SweepProgress(int total, Collection<TrialResult> earlier, int parallel, Listener listener, LongSupplier nanos) {
        if (parallel <= 0) {
            throw new IllegalArgumentException("parallel must be positive, got " + parallel);
        }
        this.total = total;
        this.parallel = parallel;
        this.listener = listener;
        this.nanos = nanos;
        this.start = nanos.getAsLong();
        this.done = earlier.size();
        this.failed = (int) earlier.stream().filter(r -> r.status() == TrialResult.Status.FAILED).count();
    }

    /**
     * The progress of a sweep run from this process: quiet, nothing; otherwise the display the kernel installed, or
     * one line per event through {@code say}.
     */
    static SweepProgress of(int total, Collection<TrialResult> earlier, int parallel, boolean quiet, Consumer<String> say) {
        Listener l = NONE;
        if (!quiet) {
            Supplier<? extends Listener> factory = display;
            Listener shown = factory == null ? null : factory.get();
            l = shown != null ? shown : lines(say);
        }
        return new SweepProgress(total, earlier, parallel, l, System::nanoTime);
    }

    /** Tells the listener that the sweep starts (the notebook shows its display from here). */
    public synchronized void begin() {
        listener.onEvent(Event.SWEEP_STARTED, status(), String.format(Locale.ROOT, "%d trials, %d already done, %d at a time", total, done, parallel));
    }

    public synchronized void started(Trial t) {
        running.put(t.id(), nanos.getAsLong());
        listener.onEvent(Event.TRIAL_STARTED, status(), "start " + t.id() + ": " + t.describe());
    }

    /** A trial's result is in; a trial that never {@link #started} (refused while planning) counts without a time. */
    public synchronized void ended(TrialResult r) {
        Long since = running.remove(r.trial().id());
        if (since != null) {
            durations.add((nanos.getAsLong() - since) / 1e9);
        }
        done++;
        if (r.status() == TrialResult.Status.FAILED) {
            failed++;
        }
        listener.onEvent(Event.TRIAL_ENDED, status(), r.toString());
    }

    /** The sweep is over (every trial done, or interrupted with some not started). */
    public synchronized void end() {
        over = true;
        Status s = status();
        listener.onEvent(Event.SWEEP_ENDED, s, s.waiting() + s.running() == 0 ? "sweep done" : "sweep interrupted");
    }

    /** A remark for whoever watches (the terminal, or the notebook cell's text output). */
    public synchronized void note(String line) {
        listener.note(line);
    }

    public synchronized Status status() {
        long now = nanos.getAsLong();
        double mean = durations.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double[] elapsed = running.values().stream().mapToDouble(t -> (now - t) / 1e9).toArray();
        int waiting = Math.max(0, total - done - running.size());
        return new Status(total, done, failed, running.size(), waiting, (now - start) / 1e9, over ? 0 : eta(mean, elapsed, waiting, parallel), mean,
                over);
    }

    /**
     * The time until every trial is done when each takes {@code meanSeconds}: the running trials hold their slots for
     * what they still lack of the mean (none once past it), and each waiting trial goes to the slot that frees first.
     * NaN when the mean is unknown and anything is left to do.
     */
    static double eta(double meanSeconds, double[] runningElapsed, int waiting, int parallel) {
        if (runningElapsed.length == 0 && waiting == 0) {
            return 0;
        }
        if (Double.isNaN(meanSeconds)) {
            return Double.NaN;
        }
        double[] slots = new double[Math.max(parallel, runningElapsed.length)];
        for (int i = 0; i < runningElapsed.length; i++) {
            slots[i] = Math.max(0, meanSeconds - runningElapsed[i]);
        }
        for (int i = 0; i < waiting; i++) {
            int first = 0;
            for (int k = 1; k < slots.length; k++) {
                if (slots[k] < slots[first]) {
                    first = k;
                }
            }
            slots[first] += meanSeconds;
        }
        return Arrays.stream(slots).max().orElse(0);
    }

    /** "0:42", "12:05", "1:02:03". */
    public static String time(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
