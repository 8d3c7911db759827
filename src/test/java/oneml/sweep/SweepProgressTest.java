package oneml.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The counts and the ETA of a sweep's progress, driven event by event on a fake clock. */
class SweepProgressTest {
    static final double NAN = Double.NaN;

    @Test
    void theEtaHandsWaitingTrialsToTheSlotThatFreesFirst() {
        assertEquals(20, SweepProgress.eta(10, new double[0], 4, 2), 1e-12, "4 trials of 10 s, 2 at a time");
        assertEquals(30, SweepProgress.eta(10, new double[0], 5, 2), 1e-12, "the fifth needs a third round");
        assertEquals(50, SweepProgress.eta(10, new double[0], 5, 1), 1e-12);
        // one running for 4 s (6 s left) and a free slot: the waiting go to 0 -> 10, 6 -> 16, 10 -> 20
        assertEquals(20, SweepProgress.eta(10, new double[] {4}, 3, 2), 1e-12);
        assertEquals(6, SweepProgress.eta(10, new double[] {4}, 0, 2), 1e-12, "only the running one, 6 s short of the mean");
        assertEquals(0, SweepProgress.eta(10, new double[] {12}, 0, 1), 1e-12, "past the mean: it could end any moment");
        assertEquals(13, SweepProgress.eta(10, new double[] {7, 1}, 1, 2), 1e-12, "slots 3 and 9: the waiting one takes the first, 3 + 10");
        assertTrue(Double.isNaN(SweepProgress.eta(NAN, new double[] {1}, 3, 2)), "no trial finished yet: unknown");
        assertEquals(0, SweepProgress.eta(NAN, new double[0], 0, 2), 1e-12, "nothing left");
        assertEquals("0:42", SweepProgress.time(42.4));
        assertEquals("12:05", SweepProgress.time(725));
        assertEquals("1:02:03", SweepProgress.time(3723));
    }

    @Test
    void eachEventIsOneLineWithTheCountsAndTheEta() {
        SweepPlan plan = Sweep.tiny("sentiment").add(Space.lora().r(4, 8, 16, 32, 64)).plan();
        SweepResult made = SweepFixtures.result(plan, t -> t.config().get("r").equals(32));
        List<TrialResult> r = made.trials();
        long[] now = {5_000_000_000L};
        List<String> lines = new ArrayList<>();
        List<SweepProgress.Status> seen = new ArrayList<>();
        SweepProgress.Listener terminal = SweepProgress.lines(lines::add);
        SweepProgress p = new SweepProgress(5, List.of(r.get(0)), 2, (e, s, what) -> {
            seen.add(s);
            terminal.onEvent(e, s, what);
        }, () -> now[0]);
        p.begin();
        assertEquals(List.of(), lines, "the sweep's own first line says it started");
        assertEquals(new SweepProgress.Status(5, 1, 0, 0, 4, 0, NAN, NAN, false), seen.get(0));

        p.started(r.get(1).trial());
        p.started(r.get(2).trial());
        assertEquals("[1/5 done, 2 running, 2 waiting, ETA after the first trial] start " + r.get(2).trial().id() + ": "
                + r.get(2).trial().describe(), lines.get(1));
        now[0] += 10_000_000_000L;
        p.ended(r.get(1));
        // mean 10 s; the other running one is 10 s in (0 s left), so the two waiting take one slot each: ETA 10 s
        assertEquals("[2/5 done, 1 running, 2 waiting, ETA 0:10] " + r.get(1), lines.get(2));
        p.started(r.get(3).trial());
        now[0] += 4_000_000_000L;
        p.ended(r.get(2));
        // mean (10 + 14) / 2 = 12; r=32 is 4 s in (8 s left), one waiting goes to the free slot: ETA 12 s
        assertEquals(new SweepProgress.Status(5, 3, 0, 1, 1, 14, 12, 12, false), seen.get(seen.size() - 1));
        p.started(r.get(4).trial());
        now[0] += 2_000_000_000L;
        p.ended(r.get(3));
        assertEquals("[4/5 done (1 failed), 1 running, 0 waiting, ETA 0:08] " + r.get(3), lines.get(lines.size() - 1),
                "r=32 failed after 6 s: mean (10 + 14 + 6) / 3 = 10, and r=64 is 2 s in");
        now[0] += 16_000_000_000L;
        p.ended(r.get(4));
        p.end();
        assertEquals("[5/5 done (1 failed) in 0:32] sweep done", lines.get(lines.size() - 1));
        assertEquals(new SweepProgress.Status(5, 5, 1, 0, 0, 32, 0, 12, true), seen.get(seen.size() - 1), "mean (10 + 14 + 6 + 18) / 4");
    }

    @Test
    void aTrialRefusedWhilePlanningCountsWithoutATimeAndAnInterruptedSweepSaysWhatDidNotStart() {
        SweepPlan plan = Sweep.tiny("sentiment").add(Space.lora().r(4, 8, 16)).plan();
        List<TrialResult> r = SweepFixtures.result(plan, t -> t.config().get("r").equals(4)).trials();
        long[] now = {0};
        List<String> lines = new ArrayList<>();
        SweepProgress p = new SweepProgress(3, List.of(), 1, SweepProgress.lines(lines::add), () -> now[0]);
        p.ended(r.get(0)); // never started
        assertEquals("[1/3 done (1 failed), 0 running, 2 waiting, ETA after the first trial] " + r.get(0), lines.get(0));
        p.started(r.get(1).trial());
        now[0] += 60_000_000_000L;
        p.ended(r.get(1));
        assertEquals(60, p.status().meanTrialSeconds(), 1e-12);
        assertEquals(60, p.status().etaSeconds(), 1e-12);
        p.note("interrupted: waiting for the trials in flight, starting no more");
        p.end();
        assertEquals(List.of("interrupted: waiting for the trials in flight, starting no more", "[2/3 done (1 failed) in 1:00, 1 not started] sweep interrupted"),
                lines.subList(lines.size() - 2, lines.size()));
    }

    @Test
    void aSweepShowsItsProgressWhereTheKernelAsksOrOnTheTerminal() {
        List<String> said = new ArrayList<>();
        SweepProgress.Listener notebook = (e, s, what) -> said.add("notebook: " + what);
        try {
            SweepProgress.display(() -> notebook);
            SweepProgress.of(1, List.of(), 1, false, said::add).end();
            assertEquals(List.of("notebook: sweep interrupted"), said, "its one trial never ran");
            SweepProgress.of(1, List.of(), 1, true, said::add).end();
            assertEquals(1, said.size(), "quiet: nothing anywhere");
            SweepProgress.display(() -> null); // no cell to show it in
            SweepProgress.of(1, List.of(), 1, false, said::add).end();
            assertTrue(said.get(1).startsWith("[0/1 done in 0:00, 1 not started] sweep interrupted"), said.toString());
        } finally {
            SweepProgress.display(null);
        }
    }
}
