package oneml.sweep;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import oneml.io.AtomicFiles;

/**
 * The local backend: each trial in a child JVM of its own, {@code parallel} at a time. A training uses its whole
 * process (libtorch's thread pools, one autograd session), so trials never share a JVM; each child gets its share of
 * the cores ({@code OMP_NUM_THREADS} and DJL's intra-op thread setting, one inter-op thread), so N children at a time
 * do not fight over the same cores. A child writes its own result file atomically; a child that dies leaves none, and
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

    private static TrialResult runChild(Setup setup, Trial t, Path out, int threads) throws IOException, InterruptedException {
        Path dir = runDir(out, t);
        Path job = dir.resolve("job.json");
        Path result = resultFile(out, t);
        Path log = dir.resolve("log.txt");
        AtomicFiles.writeString(job, new GsonBuilder().setPrettyPrinting().create().toJson(TrialProcess.job(setup, t, dir)));
        Files.deleteIfExists(result); // a retryable result from an earlier run is replaced by this one's
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss4m", "-Dai.djl.offline=true",
                "-Dai.djl.default_engine=PyTorch", "-Dai.djl.pytorch.num_threads=" + threads, "-Dai.djl.pytorch.num_interop_threads=1",
                "-Doneml.home=" + System.getProperty("oneml.home", "."), "-cp", System.getProperty("java.class.path"),
                TrialProcess.class.getName(), job.toAbsolutePath().toString(), result.toAbsolutePath().toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
        pb.environment().put("MKL_NUM_THREADS", String.valueOf(threads));
        long start = System.nanoTime();
        Process p = pb.start();
        int code;
        try {
            code = p.waitFor();
        } catch (InterruptedException e) {
            code = p.waitFor(); // let the trial in flight finish; the caller stops starting new ones
            Thread.currentThread().interrupt();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (code == 0 && Files.isRegularFile(result)) {
            try {
                return TrialResult.load(result);
            } catch (RuntimeException e) {
                // fall through: a result we cannot read is a failure to retry
            }
        }
        TrialResult failed = TrialResult.failed(t, "its JVM (pid " + p.pid() + ") exited with code " + code + " and left no result"
                + lastLines(log), TrialProcess.host(), p.pid(), seconds, true);
        failed.save(result);
        return failed;
    }

    /** The end of a child's log, for the reason of a FAILED row. */
    private static String lastLines(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
            if (lines.isEmpty()) {
                return "";
            }
            return "; its log ends: " + String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
