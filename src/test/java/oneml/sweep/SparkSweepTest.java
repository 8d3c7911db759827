package oneml.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark backend on a real standalone cluster: a master and two workers, separate JVMs started from the project's
 * class path on 127.0.0.1, one core each. Eight tiny trials (6 steps on the embedded default): the results equal the
 * local backend's; a sweep whose JVM is killed half-way leaves no trial running and, started again, runs only what is
 * missing; a worker killed while trials run costs nothing but time: every trial once, with the same numbers.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SparkSweepTest {
    @TempDir
    static Path tmp;
    static LocalSparkCluster cluster;
    static SweepResult local;

    static Sweep eightTrials(Path out) {
        return Sweep.tiny("sentiment").add(Space.lora().r(4, 8).learningRate(5e-3, 1e-2)).seeds(2).steps(6).batchSize(8).evalEvery(0)
                .evalLimit(4).maxNewTokens(4).checkpointEvery(2).out(out).quiet();
    }

    @BeforeAll
    static void startTheClusterAndRunTheSweepLocally() {
        cluster = LocalSparkCluster.start(tmp.resolve("cluster"), 2, 1);
        local = eightTrials(tmp.resolve("local")).parallel(2).run(); // one thread per trial, as each Spark task gets
        assertEquals(8, local.trials().size());
        local.trials().forEach(t -> assertEquals(TrialResult.Status.OK, t.status(), t.toString()));
    }

    @AfterAll
    static void stopTheCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void theClusterGivesTheLocalBackendsNumbers() throws IOException {
        Path out = tmp.resolve("spark");
        SweepResult spark = eightTrials(out).spark(cluster.masterUrl()).run();
        assertSameTrialsAndNumbers(local, spark);
        Set<Long> pids = new TreeSet<>();
        for (TrialResult t : spark.trials()) {
            assertNotEquals(ProcessHandle.current().pid(), t.pid(), "trained outside the test's JVM");
            pids.add(t.pid());
        }
        assertEquals(8, pids.size(), "each trial in a JVM of its own");
        assertEquals(8, resultFiles(out).size());
        assertTrue(Files.readString(out.resolve("report.html")).contains("Best configuration per method"));
        assertEquals(spark.table().write().toString("csv"), SweepResult.load(out).table().write().toString("csv"));
    }

    @Test
    @Order(2)
    void aSweepKilledHalfWayLeavesNoTrialRunningAndStartedAgainRunsOnlyWhatIsMissing() throws Exception {
        Path out = tmp.resolve("killed");
        Path spec = tmp.resolve("spec.json");
        Files.writeString(spec, eightTrials(out).toJson());
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                "oneml.cli.Main", "sweep", "--spec", spec.toString(), "--backend", "spark", "--master", cluster.masterUrl(), "--out", out.toString());
        Process sweep = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("killed-sweep.log").toFile()).start();
        long deadline = System.nanoTime() + 240_000_000_000L;
        while (resultFiles(out).size() < 3) {
            assertTrue(sweep.isAlive(), "the sweep ended before it was killed: " + Files.readString(tmp.resolve("killed-sweep.log")));
            assertTrue(System.nanoTime() < deadline, "no third result in 4 minutes");
            Thread.sleep(100);
        }
        sweep.destroyForcibly(); // SIGKILL: no shutdown hook, no clean stop
        sweep.waitFor();
        Map<String, Long> finished = pidsOfResults(out);
        assertTrue(finished.size() >= 3 && finished.size() < 8, "killed half-way: " + finished.size() + " results");

        // its driver, the executors' tasks and the trials' JVMs go with it: nothing keeps training into the folder
        waitUntil(() -> trialJvmsWriting(out).isEmpty(), 60, () -> "trial JVMs still running after the sweep was killed: " + trialJvmsWriting(out));

        SweepResult again = eightTrials(out).spark(cluster.masterUrl()).run();
        assertSameTrialsAndNumbers(local, again);
        for (TrialResult t : again.trials()) {
            if (finished.containsKey(t.trial().id())) {
                assertEquals(finished.get(t.trial().id()), t.pid(), "finished before the kill, not run again: " + t.trial().id());
            }
        }
    }

    @Test
    @Order(3)
    void aWorkerKilledWhileTrialsRunCostsOnlyTime() throws Exception {
        Path out = tmp.resolve("worker-killed");
        AtomicReference<SweepResult> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread sweep = new Thread(() -> {
            try {
                result.set(eightTrials(out).spark(cluster.masterUrl()).run());
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        sweep.start();
        // kill worker 0 while one of its executor's trials trains (after its first checkpoint when there is time)
        ProcessHandle worker = cluster.workers().get(0);
        List<ProcessHandle> trialsOfWorker = new ArrayList<>();
        waitUntil(() -> {
            trialsOfWorker.clear();
            worker.descendants().filter(p -> p.info().commandLine().orElse("").contains("-D" + TrialLauncher.RUN_DIR_PROPERTY + "=")).forEach(trialsOfWorker::add);
            return !trialsOfWorker.isEmpty() && resultFiles(out).size() >= 1;
        }, 240, () -> "no trial ran on worker 0");
        Thread.sleep(1500);
        cluster.killWorker(0);
        waitUntil(() -> trialsOfWorker.stream().noneMatch(ProcessHandle::isAlive), 60, () -> "the lost worker's trial JVMs kept running");
        sweep.join(300_000);
        assertFalse(sweep.isAlive(), "the sweep did not end in 5 minutes after the worker was killed");
        if (failure.get() != null) {
            throw new AssertionError("the sweep failed after a worker was killed", failure.get());
        }
        assertSameTrialsAndNumbers(local, result.get());
        assertEquals(8, resultFiles(out).size(), "every trial once");
    }

    /** The same trials in the same order, each OK, with the same losses and accuracy (to float32 rounding). */
    static void assertSameTrialsAndNumbers(SweepResult expected, SweepResult actual) {
        assertEquals(expected.trials().stream().map(t -> t.trial().id()).toList(), actual.trials().stream().map(t -> t.trial().id()).toList());
        for (int i = 0; i < expected.trials().size(); i++) {
            var e = expected.trials().get(i).result();
            var a = actual.trials().get(i);
            assertEquals(TrialResult.Status.OK, a.status(), a.toString());
            String what = a.trial().id();
            assertEquals(e.finalTrainLoss(), a.result().finalTrainLoss(), 1e-4 * Math.abs(e.finalTrainLoss()), what);
            assertEquals(e.bestValLoss(), a.result().bestValLoss(), 1e-4 * Math.abs(e.bestValLoss()), what);
            assertEquals(e.metric(), a.result().metric(), 1e-9, what);
            assertEquals(e.trainableParams(), a.result().trainableParams(), what);
            double[] el = e.curve().doubleColumn("loss").asDoubleArray();
            double[] al = a.result().curve().doubleColumn("loss").asDoubleArray();
            assertEquals(el.length, al.length, what);
            for (int s = 0; s < el.length; s++) {
                assertEquals(el[s], al[s], 1e-4 * Math.abs(el[s]), what + " step " + (s + 1));
            }
        }
    }

    static Set<String> resultFiles(Path out) throws IOException {
        Path dir = out.resolve("trials");
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    static Map<String, Long> pidsOfResults(Path out) throws IOException {
        Map<String, Long> pids = new TreeMap<>();
        for (String f : resultFiles(out)) {
            TrialResult r = TrialResult.load(out.resolve("trials").resolve(f));
            pids.put(r.trial().id(), r.pid());
        }
        return pids;
    }

    /** Trial JVMs whose run folder lies in {@code out} (ProcessHandle shows the first 4 kB of a command line, enough). */
    static List<ProcessHandle> trialJvmsWriting(Path out) {
        String marker = "-D" + TrialLauncher.RUN_DIR_PROPERTY + "=" + out.toAbsolutePath();
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(marker)).toList();
    }

    interface Check {
        boolean holds() throws Exception;
    }

    static void waitUntil(Check check, int seconds, java.util.function.Supplier<String> message) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!check.holds()) {
            assertTrue(System.nanoTime() < deadline, message);
            Thread.sleep(100);
        }
    }
}
