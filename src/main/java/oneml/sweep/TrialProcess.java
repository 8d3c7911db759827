package oneml.sweep;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Path;
import oneml.Compare;
import oneml.compare.Comparison;
import oneml.compare.MethodResult;
import oneml.data.Datasets;
import oneml.data.TextDataset;
import oneml.io.JsonFiles;
import oneml.train.RunCheckpoint;

/**
 * Runs one trial: one training and one evaluation, as a comparison of one method with the trial's training fields, and
 * writes its {@link TrialResult}. {@code main} is the entry point of the local backend's child JVMs ({@code java -cp ...
 * oneml.sweep.TrialProcess JOB.json RESULT.json}); it depends only on the job file, so any process that can read the
 * model and the data can run it.
 *
 * <p>With {@code checkpointEvery} set, training saves resumable checkpoints into the trial's run folder, and a trial run
 * again (its JVM died, the sweep was killed) resumes from the newest one and ends where an uninterrupted run ends.
 */
public final class TrialProcess {
    private TrialProcess() {}

    /** The third argument that makes the trial exit when its standard input closes (its starter is gone). */
    static final String EXIT_WITH_PARENT = "--exit-with-parent";

    public static void main(String[] args) {
        if (args.length < 2 || args.length > 3 || (args.length == 3 && !args[2].equals(EXIT_WITH_PARENT))) {
            System.err.println("usage: TrialProcess JOB.json RESULT.json [" + EXIT_WITH_PARENT + "] (the sweep backends start this; see oneml.sweep.Sweep)");
            System.exit(2);
        }
        if (args.length == 3) {
            exitWhenStdinCloses();
        }
        JsonObject job = JsonFiles.readObject(Path.of(args[0]), "sweep trial job", JsonFiles.SMALL_FILE_BYTES);
        TrialResult result = run(job);
        result.save(Path.of(args[1]));
        System.out.println(result);
        System.exit(0);
    }

    /**
     * A trial whose starter died (a killed sweep, a lost Spark executor) must not train on beside its own retry, writing
     * the same checkpoints: the starter holds the write end of this process's standard input, and the OS closes it when
     * the starter dies, however it dies.
     */
    private static void exitWhenStdinCloses() {
        Thread watch = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // nothing is sent; only the end matters
                }
            } catch (IOException e) {
                // a broken pipe is an end too
            }
            System.err.println("the process that started this trial is gone: stopping");
            Runtime.getRuntime().halt(3);
        }, "oneml-parent-watch");
        watch.setDaemon(true);
        watch.start();
    }

    /** The job a trial runs from: the sweep's setup, the trial, and its run folder (log, resumable checkpoints). */
    static JsonObject job(Setup setup, Trial trial, Path runDir) {
        JsonObject o = new JsonObject();
        o.add("setup", setup.toJson());
        o.add("trial", trial.toJson());
        o.addProperty("run_dir", runDir.toAbsolutePath().toString());
        return o;
    }

    static TrialResult run(JsonObject job) {
        return run(Setup.fromJson(job.getAsJsonObject("setup")), Trial.fromJson(job.getAsJsonObject("trial")),
                Path.of(job.get("run_dir").getAsString()));
    }

    /**
     * Runs a job given as JSON text (what the local backend writes to {@code runs/<id>/job.json}) in this process and
     * returns its result as JSON text (what {@code trials/<id>.json} holds): the seam for a backend that ships trials to
     * other processes, such as Spark tasks. The process must be able to read the job's model and data paths.
     */
    public static String runJob(String jobJson) {
        JsonObject job = JsonFiles.parseObject(jobJson, Path.of("job.json"), "sweep trial job");
        return run(job).toJsonText();
    }

    /** Trains and scores {@code trial} in this JVM; failures of its own (bad data, a refused config) are a FAILED result. */
    static TrialResult run(Setup setup, Trial trial, Path runDir) {
        long start = System.nanoTime();
        String host = host();
        long pid = ProcessHandle.current().pid();
        if (trial.problem() != null) {
            return TrialResult.failed(trial, trial.problem(), host, pid, 0, false);
        }
        try {
            TextDataset data = load(setup.data());
            Compare compare = setup.model() == null ? Compare.tiny(data) : Compare.of(Path.of(setup.model()), data);
            compare.add(trial.candidate()).steps(trial.steps()).batchSize(trial.batchSize()).evalEvery(setup.evalEvery())
                    .evalLimit(setup.evalLimit()).maxNewTokens(setup.maxNewTokens()).seed(trial.seed()).withoutBaseline().quiet()
                    .trainWith(t -> {
                        t.gradientCheckpointing(trial.gradientCheckpointing())
                                .warmupSteps(((Number) trial.training().get("warmupSteps")).intValue())
                                .weightDecay(((Number) trial.training().get("weightDecay")).doubleValue())
                                .maxGradNorm(((Number) trial.training().get("maxGradNorm")).doubleValue());
                        if (setup.checkpointEvery() > 0) {
                            t.outputDir(runDir).checkpointEvery(setup.checkpointEvery());
                            if (RunCheckpoint.exists(runDir)) {
                                System.out.println("resuming " + trial.id() + " from its checkpoints in " + runDir);
                                t.resumeFrom(runDir); // a retried trial goes on where it stopped
                            }
                        }
                    });
            Comparison c = compare.run();
            MethodResult r = c.results().get(0);
            return new TrialResult(trial, r, host, pid, (System.nanoTime() - start) / 1e9, false);
        } catch (RuntimeException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return TrialResult.failed(trial, why, host, pid, (System.nanoTime() - start) / 1e9, false);
        }
    }

    private static TextDataset load(String source) {
        try {
            return Datasets.fromSource(source);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dataset " + source + ": " + e.getMessage(), e);
        }
    }

    static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
