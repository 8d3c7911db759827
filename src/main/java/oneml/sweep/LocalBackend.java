package oneml.sweep;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The local backend: each trial in a child JVM of its own, {@code parallel} at a time. A training uses its whole
 * process (libtorch's thread pools, one autograd session), so trials never share a JVM; each child gets its share of
 * the cores ({@link TrialLauncher}), so N children at a time do not fight over the same cores. A child writes its own
 * result file atomically; a child that dies leaves none, and
 * its trial gets a FAILED row marked retryable, which a sweep started again runs again (resuming from its checkpoints).
 */
final class LocalBackend {
    private LocalBackend() {}

    /** The file a trial's result goes to. */
    static Path resultFile(Path out, Trial t) {
        return out.resolve("trials").resolve(t.id() + ".json");
    }

    /** The trial's own folder: its job file, its log and its resumable checkpoints. */
    static Path runDir(Path out, Trial t) {
        return out.resolve("runs").resolve(t.id());
    }

    /** Threads for each of {@code parallel} trials at a time on this machine's cores. */
    static int threadsPerTrial(int parallel) {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / parallel);
    }

    /**
     * Runs {@code trials} and returns their results in plan order (those not started because the calling thread was
     * interrupted are missing); {@code progress} hears of each trial as it starts and ends.
     */
    static List<TrialResult> run(Setup setup, List<Trial> trials, Path out, int parallel, SweepProgress progress) {
        int threads = threadsPerTrial(parallel);
        AtomicBoolean stopping = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "oneml-sweep-trial");
            t.setDaemon(true);
            return t;
        });
        List<Future<TrialResult>> futures = new ArrayList<>();
        for (Trial t : trials) {
            futures.add(pool.submit(() -> {
                if (stopping.get()) {
                    return null; // interrupted: trials not yet started stay for the next run
                }
                TrialResult r;
                if (t.problem() != null) { // refused while planning: nothing to start a JVM for
                    r = TrialProcess.run(setup, t, runDir(out, t));
                    r.save(resultFile(out, t));
                } else {
                    progress.started(t);
                    r = runChild(setup, t, out, threads);
                }
                progress.ended(r);
                return r;
            }));
        }
        pool.shutdown();
        List<TrialResult> results = new ArrayList<>();
        boolean interrupted = false;
        for (Future<TrialResult> f : futures) {
            while (true) {
                try {
                    TrialResult r = f.get();
                    if (r != null) {
                        results.add(r);
                    }
                    break;
                } catch (InterruptedException e) {
                    // stop cleanly: no new trials, the ones in flight finish and are recorded
                    interrupted = true;
                    if (stopping.compareAndSet(false, true)) {
                        progress.note("interrupted: waiting for the trials in flight, starting no more");
                    }
                } catch (ExecutionException e) {
                    throw new IllegalStateException("the sweep's trial runner failed: " + e.getCause().getMessage(), e.getCause());
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return results;
    }

    private static TrialResult runChild(Setup setup, Trial t, Path out, int threads) throws IOException {
        Path dir = runDir(out, t);
        Path result = resultFile(out, t);
        TrialLauncher.Exit exit = TrialLauncher.launch(TrialProcess.job(setup, t, dir), dir, result, threads, System.getProperty("java.class.path"),
                System.getProperty("oneml.home", "."));
        TrialResult r = TrialLauncher.resultOf(t, exit, result, dir);
        if (r.retryable()) {
            r.save(result);
        }
        return r;
    }
}
