package oneml.sweep;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import oneml.io.AtomicFiles;

/**
 * What a sweep's backends cost and gain on this machine, as ratios measured in one run ({@code ./oneml sweep-bench}):
 * <ul>
 *   <li>throughput: the same trials one after another with all cores each, against two at a time with half the cores
 *       (the local backend's {@code --parallel 2}, and Spark with two one-core executors on a {@link LocalSparkCluster});
 *   <li>overhead: a trial's time on Spark (from its job's submission to its result, one trial at a time on one
 *       executor) against the same trial started alone in a JVM of its own, with the same one core.
 * </ul>
 * Every figure is a whole trial: a JVM's start, the model's load, training, validation and scoring. The machine's
 * load average before each phase is recorded beside it, since others' work changes every wall time here.
 */
public final class SweepBench {
    private SweepBench() {}

    /** The figures of one bench run. */
    public record Result(int trials, int steps, Map<String, Double> wallSeconds, Map<String, Double> loadBefore, double[] aloneSeconds,
            double[] sparkSeconds) {
        public double ratio(String mode) {
            return wallSeconds.get(mode) / wallSeconds.get(SEQUENTIAL);
        }

        public double overhead() {
            return median(sparkSeconds) / median(aloneSeconds) - 1;
        }

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "Sweep bench: %d trials of %d steps on the embedded default, %d cores%n",
                    trials, steps, Runtime.getRuntime().availableProcessors()));
            s.append(String.format(Locale.ROOT, "%-44s %9s %9s %13s%n", "mode", "wall s", "vs seq.", "load before"));
            for (var e : wallSeconds.entrySet()) {
                s.append(String.format(Locale.ROOT, "%-44s %9.1f %8.2fx %13.2f%n", e.getKey(), e.getValue(), ratio(e.getKey()), loadBefore.get(e.getKey())));
            }
            s.append(String.format(Locale.ROOT, "Per trial, 1 core: alone in its JVM %s s (median %.1f), on Spark %s s (median %.1f): overhead %+.1f%%"
                    + " (load before: %.2f, %.2f)%n", show(aloneSeconds), median(aloneSeconds), show(sparkSeconds), median(sparkSeconds), 100 * overhead(),
                    loadBefore.get(ALONE), loadBefore.get(SPARK_ONE)));
            return s.toString();
        }
    }

    static final String SEQUENTIAL = "one at a time, all cores each";
    static final String LOCAL_2 = "local --parallel 2, 1 core each";
    static final String SPARK_2 = "Spark, 2 one-core executors";
    static final String ALONE = "alone";
    static final String SPARK_ONE = "spark, one at a time";

    /**
     * Runs the bench: {@code trials} LoRA trials (ranks, learning rates, seeds) of {@code steps} steps for throughput,
     * and {@code overheadTrials} of them one at a time for the overhead; everything under {@code out}.
     */
    public static Result run(int trials, int steps, int overheadTrials, Path out, Consumer<String> say) {
        if (trials < 2 || trials % 2 != 0 || overheadTrials < 1 || steps < 1) {
            throw new IllegalArgumentException("the bench needs an even number of trials (at least 2), at least 1 overhead trial and 1 step");
        }
        AtomicFiles.deleteTree(out); // a bench measures runs, not a folder's finished trials
        Map<String, Double> wall = new LinkedHashMap<>();
        Map<String, Double> load = new LinkedHashMap<>();

        // overhead first, while nothing of ours has run yet: the same trials alone, then one at a time on one executor
        Sweep few = sweep(overheadTrials, steps, out.resolve("alone"));
        List<Trial> fewTrials = few.plan().trials();
        double[] alone = new double[fewTrials.size()];
        load.put(ALONE, loadAverage());
        for (int i = 0; i < alone.length; i++) {
            Trial t = fewTrials.get(i);
            Path dir = LocalBackend.runDir(few.out(), t);
            try {
                TrialLauncher.Exit exit = TrialLauncher.launch(TrialProcess.job(few.setup(), t, dir), dir, dir.resolve("result.json"), 1,
                        System.getProperty("java.class.path"), System.getProperty("oneml.home", "."));
                alone[i] = exit.seconds();
                say.accept(String.format(Locale.ROOT, "alone: %s %.1f s (exit %d)", t.id(), exit.seconds(), exit.code()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        double[] spark;
        try (LocalSparkCluster one = LocalSparkCluster.start(out.resolve("cluster-1"), 1, 1)) {
            load.put(SPARK_ONE, loadAverage());
            Sweep s = sweep(overheadTrials, steps, out.resolve("spark-1")).spark(one.masterUrl());
            s.run();
            spark = trialSeconds(s.out(), fewTrials);
        }

        // throughput
        load.put(SEQUENTIAL, loadAverage());
        wall.put(SEQUENTIAL, timed(sweep(trials, steps, out.resolve("sequential")).parallel(1), say));
        load.put(LOCAL_2, loadAverage());
        wall.put(LOCAL_2, timed(sweep(trials, steps, out.resolve("local-2")).parallel(2), say));
        try (LocalSparkCluster two = LocalSparkCluster.start(out.resolve("cluster-2"), 2, 1)) {
            load.put(SPARK_2, loadAverage());
            wall.put(SPARK_2, timed(sweep(trials, steps, out.resolve("spark-2")).spark(two.masterUrl()), say));
        }
        Result r = new Result(trials, steps, wall, load, alone, spark);
        JsonObject o = new JsonObject();
        o.addProperty("trials", trials);
        o.addProperty("steps", steps);
        o.addProperty("cores", Runtime.getRuntime().availableProcessors());
        var gson = new GsonBuilder().setPrettyPrinting().create();
        o.add("wall_s", gson.toJsonTree(wall));
        o.add("load_before", gson.toJsonTree(load));
        o.add("alone_s", gson.toJsonTree(alone));
        o.add("spark_s", gson.toJsonTree(spark));
        o.addProperty("overhead", r.overhead());
        AtomicFiles.writeString(out.resolve("bench.json"), gson.toJson(o));
        AtomicFiles.writeString(out.resolve("bench.txt"), r.toString());
        return r;
    }

    /** LoRA at four ranks and two learning rates, seeds to make up {@code n} trials. */
    private static Sweep sweep(int n, int steps, Path out) {
        int points = Math.min(8, n);
        Space space = Space.lora().r(4, 8, 16, 32).learningRate(2e-3, 5e-3);
        if (points < 8) {
            space.sample(points, 1);
        }
        return Sweep.tiny("sentiment").add(space).seeds((n + points - 1) / points).steps(steps).evalEvery(0).evalLimit(20)
                .checkpointEvery(0).out(out).quiet();
    }

    private static double timed(Sweep s, Consumer<String> say) {
        long start = System.nanoTime();
        SweepResult r = s.run();
        double seconds = (System.nanoTime() - start) / 1e9;
        say.accept(String.format(Locale.ROOT, "%s: %d trials (%d failed) in %.1f s", s.out().getFileName(), r.trials().size(), r.failedCount(), seconds));
        if (r.failedCount() > 0) {
            throw new IllegalStateException("a bench trial failed: " + r.trials().stream().filter(t -> t.status() != TrialResult.Status.OK).findFirst().orElseThrow());
        }
        return seconds;
    }

    private static double[] trialSeconds(Path out, List<Trial> trials) {
        try {
            Map<String, Double> byId = new LinkedHashMap<>();
            for (String line : Files.readAllLines(out.resolve("spark").resolve("trial-seconds.csv")).subList(1, trials.size() + 1)) {
                String[] f = line.split(",");
                byId.put(f[0], Double.parseDouble(f[1]));
            }
            return trials.stream().mapToDouble(t -> byId.get(t.id())).toArray();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("the Spark driver left no trial times in " + out.resolve("spark") + ": " + e.getMessage(), e);
        }
    }

    /** The 1-minute load average (NaN where /proc/loadavg is missing). */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String show(double[] xs) {
        List<String> parts = new ArrayList<>();
        for (double x : xs) {
            parts.add(String.format(Locale.ROOT, "%.1f", x));
        }
        return String.join("/", parts);
    }
}
