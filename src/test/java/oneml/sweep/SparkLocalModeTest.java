package oneml.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark backend with {@code local[2]} (the driver's own JVM schedules, trials still run in JVMs of their own): a
 * stop request (the notebook's interrupt) lets the trials in flight finish, records them, starts no more and leaves
 * nothing queued; the sweep started again runs only the rest.
 */
class SparkLocalModeTest {
    @Test
    void anInterruptFinishesTheTrialsInFlightAndStartsNoMore(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        List<String> lines = new ArrayList<>();
        AtomicReference<SweepResult> result = new AtomicReference<>();
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        Thread sweep = new Thread(() -> {
            result.set(sixTrials(out).run());
            stillInterrupted.set(Thread.currentThread().isInterrupted());
        });
        sweep.start();
        SparkSweepTest.waitUntil(() -> !SparkSweepTest.resultFiles(out).isEmpty(), 240, () -> "no result in 4 minutes");
        sweep.interrupt();
        sweep.join(240_000);
        assertFalse(sweep.isAlive(), "the sweep did not stop after its trials in flight");
        assertTrue(stillInterrupted.get(), "the caller's interrupt flag is set again");
        SweepResult stopped = result.get();
        assertTrue(stopped.trials().size() >= 2 && stopped.trials().size() < 6, "in flight when interrupted: 2 or 3, got " + stopped.trials().size());
        stopped.trials().forEach(t -> assertEquals(TrialResult.Status.OK, t.status(), "finished, not cut off: " + t));
        assertEquals(stopped.trials().size(), SparkSweepTest.resultFiles(out).size());
        assertTrue(SparkSweepTest.trialJvmsWriting(out).isEmpty(), "no trial left running");

        Map<String, Long> before = SparkSweepTest.pidsOfResults(out);
        SweepResult again = sixTrials(out).run();
        assertEquals(6, again.trials().size());
        for (TrialResult t : again.trials()) {
            assertEquals(TrialResult.Status.OK, t.status(), t.toString());
            if (before.containsKey(t.trial().id())) {
                assertEquals(before.get(t.trial().id()), t.pid(), "done before the stop, not run again");
            }
        }
        assertTrue(Files.readString(out.resolve("spark").resolve("trial-seconds.csv")).lines().count() > 1, "per-trial times on Spark");
    }

    static Sweep sixTrials(Path out) {
        return Sweep.tiny("sentiment").add(Space.lora().r(4, 8, 16).learningRate(5e-3)).seeds(2).steps(4).batchSize(8).evalEvery(0)
                .evalLimit(4).maxNewTokens(4).checkpointEvery(0).out(out).quiet().spark("local[2]");
    }
}
