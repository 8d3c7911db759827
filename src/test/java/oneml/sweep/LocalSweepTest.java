package oneml.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import oneml.compare.MethodResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real sweeps on the embedded default with the local backend (child JVMs), kept tiny (4 steps, a few test rows): every
 * trial once in the results, finished trials skipped when a sweep starts again, a killed trial resumed from its
 * checkpoints, failures as rows, and the same trial giving the same losses on another thread count.
 */
class LocalSweepTest {
    static Path out;
    static SweepResult first;

    static Sweep fourTrials(Path dir, int parallel) {
        return Sweep.tiny("sentiment").add(Space.lora().r(4, 8).learningRate(5e-3)).seeds(2).steps(4).batchSize(8).evalEvery(0)
                .evalLimit(4).maxNewTokens(4).checkpointEvery(2).parallel(parallel).out(dir).quiet();
    }

    @BeforeAll
    static void runFourTrialsTwoAtATime(@TempDir Path tmp) {
        out = tmp.resolve("a");
        first = fourTrials(out, 2).run();
    }

    @Test
    void everyTrialOnceWithItsNumbersAndFiles() throws IOException {
        SweepPlan plan = fourTrials(out, 2).plan();
        assertEquals(4, first.trials().size());
        assertEquals(plan.trials(), first.trials().stream().map(TrialResult::trial).toList(), "one result per planned trial, in plan order");
        for (TrialResult t : first.trials()) {
            assertEquals(TrialResult.Status.OK, t.status(), t.toString());
            MethodResult r = t.result();
            // q_proj (256 -> 256) and v_proj (256 -> 128, 4 key/value heads of 32) in 4 layers: r * (512 + 384) * 4
            assertEquals(3584L * (Integer) t.trial().config().get("r"), r.trainableParams(), "r * (in + out) per target: " + t);
            assertTrue(r.peakBytes() > 0 && r.tokensPerSecond() > 0 && Double.isFinite(r.finalTrainLoss()) && Double.isFinite(r.bestValLoss()), t.toString());
            assertTrue(r.metric() >= 0 && r.metric() <= 1, t.toString());
            assertEquals(4, r.curve().rowCount(), "a loss per step");
            assertNotEquals(ProcessHandle.current().pid(), t.pid(), "trained in a child JVM");
            assertTrue(Files.isRegularFile(out.resolve("trials").resolve(t.trial().id() + ".json")));
        }
        try (Stream<Path> files = Files.list(out.resolve("trials"))) {
            assertEquals(4, files.count());
        }
        SweepResult saved = SweepResult.load(out);
        assertEquals(first.table().write().toString("csv"), saved.table().write().toString("csv"));
        assertEquals(5, Files.readAllLines(out.resolve(SweepResult.CSV)).size(), "a header and a row per trial");
        assertTrue(Files.readString(out.resolve("report.html")).contains("Best configuration per method"));
        assertEquals(2, first.aggregates().rowCount(), "two configurations, two seeds each");
        assertEquals(List.of(2, 2), first.aggregates().intColumn("n").asList());
    }

    @Test
    void aSweepStartedAgainSkipsFinishedTrialsAndRunsTheRestWithTheSameNumbers(@TempDir Path tmp) throws Exception {
        // the same folder again: nothing to run, the stored results come back
        SweepResult again = fourTrials(out, 2).run();
        assertEquals(first.trials().stream().map(TrialResult::pid).toList(), again.trials().stream().map(TrialResult::pid).toList());

        // a fresh folder holding two of the four results (a sweep killed half-way): only the other two run, with two
        // threads each this time; the same trials give the same losses (to float32 rounding, not bit for bit, since the
        // reductions split differently over threads)
        Path b = tmp.resolve("b");
        Files.createDirectories(b.resolve("trials"));
        List<TrialResult> kept = first.trials().stream().filter(t -> t.trial().seed() == 42).toList();
        for (TrialResult t : kept) {
            Files.copy(out.resolve("trials").resolve(t.trial().id() + ".json"), b.resolve("trials").resolve(t.trial().id() + ".json"));
        }
        // interrupted while the first of the two runs: that one finishes, the other does not start, what was measured is
        // written, and the interrupt is kept for the caller
        List<Trial> toRun = fourTrials(b, 1).plan().trials().stream().filter(t -> t.seed() == 43).toList();
        AtomicReference<SweepResult> partial = new AtomicReference<>();
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        Thread running = new Thread(() -> {
            partial.set(fourTrials(b, 1).run());
            stillInterrupted.set(Thread.currentThread().isInterrupted());
        });
        running.start();
        Path firstJob = LocalBackend.runDir(b, toRun.get(0)).resolve("job.json");
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!Files.exists(firstJob) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(200);
        running.interrupt();
        running.join(120_000);
        assertTrue(stillInterrupted.get(), "the interrupt is kept for the caller");
        assertEquals(3, partial.get().trials().size(), partial.get().toString());
        assertEquals(TrialResult.Status.OK, partial.get().trial(toRun.get(0).id()).status(), "the trial in flight finished");
        assertFalse(Files.exists(LocalBackend.runDir(b, toRun.get(1))), "no trial starts after the interrupt");
        assertEquals(4, Files.readAllLines(b.resolve(SweepResult.CSV)).size(), "what was measured is written");

        SweepResult second = fourTrials(b, 1).run();
        assertEquals(4, second.trials().size());
        for (TrialResult t : second.trials()) {
            TrialResult before = first.trial(t.trial().id());
            boolean wasKept = t.trial().seed() == 42;
            assertEquals(wasKept, t.pid() == before.pid(), "kept results are read back, the others run anew: " + t);
            if (t.trial().equals(toRun.get(0))) {
                assertEquals(partial.get().trial(t.trial().id()).pid(), t.pid(), "finished before the interrupt, so not run again");
            }
            assertEquals(!wasKept, Files.isDirectory(b.resolve("runs").resolve(t.trial().id())), "a run folder only for trials that ran");
            assertEquals(TrialResult.Status.OK, t.status(), t.toString());
            assertEquals(before.result().finalTrainLoss(), t.result().finalTrainLoss(), 1e-3, t.toString());
            assertEquals(before.result().bestValLoss(), t.result().bestValLoss(), 1e-3, t.toString());
            double[] a1 = before.result().curve().doubleColumn("loss").asDoubleArray();
            double[] a2 = t.result().curve().doubleColumn("loss").asDoubleArray();
            for (int i = 0; i < a1.length; i++) {
                assertEquals(a1[i], a2[i], 1e-3, "step " + (i + 1) + " of " + t.trial().id());
            }
        }
        // the seeds differ by more than rounding, so the tolerance above can tell a seed's run from another's
        assertTrue(Math.abs(first.trials().get(0).result().curve().doubleColumn("loss").get(3)
                - first.trials().get(1).result().curve().doubleColumn("loss").get(3)) > 1e-2, first.toString());
    }

    @Test
    void aKilledTrialIsRetryableAndResumesWhileFailuresAreRowsAndTheSweepGoesOn(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("k");
        Sweep sweep = Sweep.tiny("sentiment").add(Space.lora().steps(12))
                .add(Space.lora().name("typo").targetModules(List.of("q_projj")))
                .add(Space.ia3().grid("targetModules", List.of("k_proj")).grid("feedforwardModules", List.of("down_proj")))
                .steps(4).batchSize(8).evalEvery(0).evalLimit(2).maxNewTokens(2).checkpointEvery(2).parallel(1).out(dir).quiet();
        Trial slow = sweep.plan().trials().get(0);
        Path checkpoints = LocalBackend.runDir(dir, slow).resolve("checkpoints");
        AtomicReference<SweepResult> result = new AtomicReference<>();
        Thread running = new Thread(() -> result.set(sweep.run()));
        running.start();
        long deadline = System.nanoTime() + 120_000_000_000L;
        boolean killed = false;
        while (!killed && System.nanoTime() < deadline && running.isAlive()) {
            if (hasCheckpoint(checkpoints)) {
                // one trial at a time and the slow one first: the only trial JVM now is the slow trial's
                for (ProcessHandle p : ProcessHandle.current().descendants().toList()) {
                    if (p.info().command().orElse("").endsWith("java")) {
                        killed = p.destroyForcibly();
                    }
                }
            }
            Thread.sleep(20);
        }
        running.join(120_000);
        assertTrue(killed, "the slow trial's JVM was found and killed after its first checkpoint");
        SweepResult r = result.get();
        assertEquals(3, r.trials().size(), r.toString());
        TrialResult died = r.trial(slow.id());
        assertEquals(TrialResult.Status.FAILED, died.status());
        assertTrue(died.retryable() && died.message().contains("exited with code"), died.message());
        TrialResult typo = r.trials().get(1);
        assertEquals(TrialResult.Status.FAILED, typo.status());
        assertFalse(typo.retryable());
        assertTrue(typo.message().contains("q_projj"), typo.message());
        TrialResult refused = r.trials().get(2);
        assertTrue(refused.message().contains("must be a subset of target_modules"), refused.message());

        SweepResult again = sweep.run();
        TrialResult resumed = again.trial(slow.id());
        assertEquals(TrialResult.Status.OK, resumed.status(), resumed.toString());
        assertEquals(12, resumed.result().curve().rowCount(), "every step's loss, those before the kill included");
        assertTrue(Files.readString(LocalBackend.runDir(dir, slow).resolve("log.txt")).contains("resuming " + slow.id()),
                "the retried trial went on from its checkpoints");
        assertEquals(typo.pid(), again.trials().get(1).pid(), "a trial that failed by itself is not run again");
    }

    private static boolean hasCheckpoint(Path checkpoints) throws IOException {
        if (!Files.isDirectory(checkpoints)) {
            return false;
        }
        try (Stream<Path> s = Files.list(checkpoints)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith("checkpoint-"));
        }
    }
}
