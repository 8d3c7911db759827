package oneml.sweep.spark;

import oneml.sweep.TrialLauncher;
import org.apache.spark.api.java.function.Function;

/**
 * A Spark task's work: one trial, run in a child JVM of the executor's machine (a training owns its process, and the
 * executor stays a small JVM that only starts and watches it). The child dies with the executor, so a lost executor's
 * trial is not trained twice at once when Spark retries the task elsewhere.
 *
 * <p>A named class, not a lambda: a lambda arrives on an executor that cannot load its capturing class as a baffling
 * {@code ClassCastException} about {@code SerializedLambda}, where a missing named class says its own name.
 */
final class TrialTask implements Function<String, String> {
    private static final long serialVersionUID = 1L;

    private final int threads;
    private final String classPath;
    private final String home;

    /**
     * @param threads   cores of each trial (the executor's {@code spark.task.cpus})
     * @param classPath the trial JVM's class path: oneml and its libraries, at a path every executor can read
     * @param home      the oneml project folder (embedded model, shipped datasets), readable by every executor
     */
    TrialTask(int threads, String classPath, String home) {
        this.threads = threads;
        this.classPath = classPath;
        this.home = home;
    }

    @Override
    public String call(String jobJson) {
        return TrialLauncher.runJob(jobJson, threads, classPath, home);
    }
}
