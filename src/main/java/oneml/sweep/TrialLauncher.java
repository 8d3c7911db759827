package oneml.sweep;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import oneml.io.AtomicFiles;
import oneml.io.JsonFiles;

/**
 * Starts one trial in a child JVM of its own ({@link TrialProcess}) and waits for it: what every backend does with a
 * trial, the local one from the sweep's JVM and the Spark one from an executor. A training uses its whole process
 * (libtorch's thread pools, one autograd session), so trials never share a JVM, and the child gets {@code threads}
 * cores ({@code OMP_NUM_THREADS} and DJL's intra-op setting, one inter-op thread), so trials side by side do not fight.
 *
 * <p>The child watches its standard input and exits when it closes: when whoever started it dies (a killed sweep, a
 * lost Spark executor), the trial stops too instead of training on as an orphan beside its own retry.
 */
public final class TrialLauncher {
    private TrialLauncher() {}

    /** Names the trial's run folder on a trial JVM's command line, ahead of its long class path. */
    static final String RUN_DIR_PROPERTY = "oneml.trial.dir";

    /**
     * oneml logs through slf4j-simple; a class path that also holds Spark's log4j binding (tests put both on theirs) would
     * make SLF4J warn about two providers in every trial's log.
     */
    static final String SIMPLE_LOGGER = "-Dslf4j.provider=org.slf4j.simple.SimpleServiceProvider";
    static final String QUIET_SLF4J = "-Dslf4j.internal.verbosity=WARN";

    /** How a child ended. */
    record Exit(int code, long pid, double seconds) {}

    /**
     * Runs {@code job} (written to {@code runDir/job.json}) in a child JVM on {@code classPath}, with {@code home} the
     * project folder (the embedded model and the shipped datasets), which writes its result to {@code result}; output
     * goes to {@code runDir/log.txt}. An interrupt lets the child finish (the caller
     * stops starting new ones) and is passed on.
     */
    static Exit launch(JsonObject job, Path runDir, Path result, int threads, String classPath, String home) throws IOException {
        Path jobFile = runDir.resolve("job.json");
        Path log = runDir.resolve("log.txt");
        AtomicFiles.writeString(jobFile, new GsonBuilder().setPrettyPrinting().create().toJson(job));
        Files.deleteIfExists(result); // a retryable result from an earlier run is replaced by this one's
        // the run folder comes first, where ps and ProcessHandle (which cut a command line at 4 kB) still show it
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-D" + RUN_DIR_PROPERTY + "=" + runDir.toAbsolutePath(), "-Xss4m", SIMPLE_LOGGER, QUIET_SLF4J,
                "-Dai.djl.offline=true", "-Dai.djl.default_engine=PyTorch", "-Dai.djl.pytorch.num_threads=" + threads,
                "-Dai.djl.pytorch.num_interop_threads=1", "-Doneml.home=" + home, "-cp", classPath,
                TrialProcess.class.getName(), jobFile.toAbsolutePath().toString(), result.toAbsolutePath().toString(), TrialProcess.EXIT_WITH_PARENT));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
        pb.environment().put("MKL_NUM_THREADS", String.valueOf(threads));
        long start = System.nanoTime();
        Process p = pb.start();
        int code;
        try {
            code = p.waitFor();
        } catch (InterruptedException e) {
            code = waitUninterruptibly(p); // the trial in flight finishes; its standard input stays open meanwhile
            Thread.currentThread().interrupt();
        }
        p.getOutputStream().close(); // the child's "parent is gone" signal; it has ended anyway
        return new Exit(code, p.pid(), (System.nanoTime() - start) / 1e9);
    }

    private static int waitUninterruptibly(Process p) {
        while (true) {
            try {
                return p.waitFor();
            } catch (InterruptedException again) {
                // keep waiting: the child is the trial in flight
            }
        }
    }

    /** The child's result, or a FAILED row (retryable: run it again) naming its exit code and the end of its log. */
    static TrialResult resultOf(Trial trial, Exit exit, Path result, Path runDir) {
        if (exit.code() == 0 && Files.isRegularFile(result)) {
            try {
                return TrialResult.load(result);
            } catch (RuntimeException e) {
                // fall through: a result we cannot read is a failure to retry
            }
        }
        return TrialResult.failed(trial, "its JVM (pid " + exit.pid() + ") exited with code " + exit.code() + " and left no result"
                + lastLines(runDir.resolve("log.txt")), TrialProcess.host(), exit.pid(), exit.seconds(), true);
    }

    /**
     * Runs a trial job (JSON text, as the backends write it) in a child JVM and returns its result as JSON text: the
     * entry point of a Spark task. The job's run folder holds the child's job file, log and resumable checkpoints; if
     * it cannot be created on this machine (an output folder that is not shared), a temporary one is used and a retried
     * trial starts from its beginning.
     */
    public static String runJob(String jobJson, int threads, String classPath, String home) {
        JsonObject job = JsonFiles.parseObject(jobJson, Path.of("job.json"), "sweep trial job");
        Trial trial = Trial.fromJson(job.getAsJsonObject("trial"));
        try {
            Path runDir = Path.of(job.get("run_dir").getAsString());
            try {
                Files.createDirectories(runDir);
            } catch (IOException notShared) {
                runDir = Files.createTempDirectory("oneml-trial-");
                job.addProperty("run_dir", runDir.toString());
            }
            Path result = runDir.resolve("result.json");
            Exit exit = launch(job, runDir, result, threads, classPath, home);
            return resultOf(trial, exit, result, runDir).toJsonText();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start trial " + trial.id() + ": " + e.getMessage(), e);
        }
    }

    /** A FAILED result (retryable) for the trial of a job, as JSON text: a task that never returned one. */
    public static String failedJson(String jobJson, String why) {
        JsonObject job = JsonFiles.parseObject(jobJson, Path.of("job.json"), "sweep trial job");
        return TrialResult.failed(Trial.fromJson(job.getAsJsonObject("trial")), why, "", -1, Double.NaN, true).toJsonText();
    }

    /** The id of the trial a job runs. */
    public static String trialId(String jobJson) {
        return JsonFiles.parseObject(jobJson, Path.of("job.json"), "sweep trial job").getAsJsonObject("trial").get("id").getAsString();
    }

    /** The end of a child's log, for the reason of a FAILED row. */
    static String lastLines(Path log) {
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
