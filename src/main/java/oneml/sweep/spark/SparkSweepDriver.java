package oneml.sweep.spark;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import oneml.io.AtomicFiles;
import oneml.io.JsonFiles;
import oneml.sweep.TrialLauncher;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The Spark backend's driver: a JVM of its own, started by {@code oneml.sweep.SparkBackend} with Spark on its class
 * path (the sweep's own JVM, a notebook kernel or {@code ./oneml}, never loads Spark). It reads a drive file (the
 * master, the trials' jobs, class paths and Spark settings), runs each trial as a one-task Spark job, and writes each
 * result to {@code out/trials/<id>.json} atomically as its task returns.
 *
 * <p>Only as many trials are submitted as there are task slots (executors that have registered, times their cores over
 * {@code spark.task.cpus}; N for {@code local[N]}), so a stop request ("stop" on standard input) leaves no queued tasks
 * behind: the trials in flight finish and are recorded, none start. {@code out/spark/trial-seconds.csv} holds each
 * trial's time from its job's submission to its result (Spark's scheduling, the trial JVM's start and the trial). When standard input closes (the sweep's JVM is
 * gone) the driver cancels everything and exits. Lines starting with '@' on standard output are for the sweep's JVM
 * ({@code @start ID}, {@code @end ID}); the rest is for people.
 */
public final class SparkSweepDriver {
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\s*\\d+)?])?");

    private SparkSweepDriver() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: SparkSweepDriver DRIVE.json (oneml.sweep.Sweep starts this for --backend spark)");
            System.exit(2);
        }
        JsonObject drive = JsonFiles.readObject(Path.of(args[0]), "Spark sweep drive file", 256L * 1024 * 1024);
        Path trials = Path.of(drive.get("out").getAsString()).resolve("trials");
        String master = drive.get("master").getAsString();
        int threads = drive.get("threads").getAsInt();
        Deque<String> pending = new ArrayDeque<>();
        for (JsonElement j : drive.getAsJsonArray("jobs")) {
            pending.add(j.toString());
        }
        AtomicBoolean stopping = watchStandardInput();

        SparkConf conf = new SparkConf().setMaster(master).setAppName("oneml sweep")
                .set("spark.task.cpus", String.valueOf(threads))
                .set("spark.executor.cores", String.valueOf(threads)) // one trial per executor at a time
                .set("spark.executor.memory", "512m") // the executor only starts and watches its trial's JVM
                .set("spark.executor.extraClassPath", drive.get("executor_class_path").getAsString())
                .set("spark.executor.extraJavaOptions", drive.get("executor_java_options").getAsString())
                .set("spark.ui.enabled", "false")
                .set("spark.task.maxFailures", "4");
        for (Map.Entry<String, JsonElement> e : drive.getAsJsonObject("conf").entrySet()) {
            conf.set(e.getKey(), e.getValue().getAsString()); // the user's settings win
        }
        TrialTask task = new TrialTask(threads, drive.get("trial_class_path").getAsString(), drive.get("home").getAsString());
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            System.out.println("Spark " + sc.version() + ", master " + master + ", application " + sc.sc().applicationId());
            // a cluster's executors register a few seconds after the context: wait for one, so that a trial's time is its own
            long waitUntil = System.nanoTime() + 120_000_000_000L;
            while (slots(sc, master, threads) == 0 && System.nanoTime() < waitUntil && !stopping.get()) {
                Thread.sleep(100);
            }
            Map<String, JavaFutureAction<List<String>>> running = new LinkedHashMap<>();
            Map<String, String> jobs = new LinkedHashMap<>();
            Map<String, Long> submitted = new LinkedHashMap<>();
            StringBuilder times = new StringBuilder("trial,seconds\n");
            int lastSlots = -1;
            while (!pending.isEmpty() || !running.isEmpty()) {
                for (var it = running.entrySet().iterator(); it.hasNext(); ) {
                    var e = it.next();
                    if (e.getValue().isDone()) {
                        it.remove();
                        double seconds = (System.nanoTime() - submitted.remove(e.getKey())) / 1e9;
                        record(trials, e.getKey(), jobs.remove(e.getKey()), e.getValue());
                        times.append(e.getKey()).append(',').append(String.format(Locale.ROOT, "%.3f", seconds)).append('\n');
                        AtomicFiles.writeString(trials.resolveSibling("spark").resolve("trial-seconds.csv"), times.toString());
                    }
                }
                int slots = slots(sc, master, threads);
                if (slots != lastSlots && slots > 0) {
                    System.out.println("@slots " + slots);
                    lastSlots = slots;
                }
                while (!stopping.get() && !pending.isEmpty() && running.size() < Math.max(1, slots)) {
                    String job = pending.poll();
                    String id = TrialLauncher.trialId(job);
                    sc.setJobDescription("oneml trial " + id);
                    submitted.put(id, System.nanoTime());
                    running.put(id, sc.parallelize(List.of(job), 1).map(task).collectAsync());
                    jobs.put(id, job);
                    System.out.println("@start " + id);
                }
                if (stopping.get() && running.isEmpty()) {
                    break;
                }
                Thread.sleep(100);
            }
            if (!pending.isEmpty()) {
                System.out.println("stopped: " + pending.size() + " trials not started");
            }
        }
        System.out.flush();
        System.exit(0);
    }

    /** Writes the trial's result as its task returned it, or a FAILED row (retryable) when Spark gave up on the task. */
    private static void record(Path trials, String id, String job, JavaFutureAction<List<String>> done) {
        String json;
        try {
            json = done.get().get(0);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            json = TrialLauncher.failedJson(job, "Spark gave up on its task: " + firstLine(cause.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            json = TrialLauncher.failedJson(job, "the driver was interrupted");
        }
        AtomicFiles.writeString(trials.resolve(id + ".json"), json);
        System.out.println("@end " + id);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "no reason given";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Trials that can run at once: N for local[N], else the registered executors' cores over the cores per trial. */
    static int slots(JavaSparkContext sc, String master, int threads) {
        Matcher m = LOCAL.matcher(master.trim());
        if (m.matches()) {
            String n = m.group(1);
            int cores = n == null ? 1 : n.equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(n);
            return Math.max(1, cores / threads);
        }
        int executors = sc.statusTracker().getExecutorInfos().length - 1; // the driver is listed too
        int coresEach = sc.getConf().getInt("spark.executor.cores", threads);
        return Math.max(0, executors) * Math.max(1, coresEach / threads);
    }

    /** "stop" asks for a clean stop; the end of input means the sweep's JVM is gone, and so is the point of running. */
    private static AtomicBoolean watchStandardInput() {
        AtomicBoolean stopping = new AtomicBoolean();
        Thread watch = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.trim().equals("stop")) {
                        stopping.set(true);
                        System.out.println("stopping: the trials in flight finish, no more start");
                    }
                }
            } catch (IOException e) {
                // a broken pipe is an end too
            }
            System.err.println("the sweep that started this driver is gone: stopping");
            Runtime.getRuntime().halt(4); // executors see the driver go and kill their tasks, and the trials with them
        }, "oneml-sweep-watch");
        watch.setDaemon(true);
        watch.start();
        return stopping;
    }
}
