package oneml.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import oneml.train.StopReason;
import oneml.train.TrainConfig;
import oneml.train.TrainingRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/** Speed figures carry the machine's load beside them, and are marked wherever they are shown when it was busy. */
class MachineLoadTest {

    @Test
    void otherProcessesKeepingEveryCoreBusyAreSeen() throws Exception {
        // as many spinners as /proc/stat counts CPUs (a container may see fewer than its host has)
        long cores;
        try (var lines = java.nio.file.Files.lines(Path.of("/proc/stat"))) {
            cores = lines.filter(l -> l.matches("cpu\\d+ .*")).count();
        } catch (java.io.IOException e) {
            cores = 0;
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(cores > 0, "no Linux CPU counters here");
        List<Process> spinners = new ArrayList<>();
        MachineLoad load;
        try {
            for (int i = 0; i < cores; i++) {
                spinners.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
            }
            Thread.sleep(300); // the shells are running
            MachineLoad.Sampler sampler = MachineLoad.start();
            Thread.sleep(1500);
            load = sampler.stop();
        } finally {
            spinners.forEach(Process::destroyForcibly);
        }
        assertTrue(load.known(), "Linux CPU counters are readable here");
        // one spinning shell per core: about all of the machine; half is far below what they take on any scheduler
        assertTrue(load.otherShare() > 0.5 && load.otherShare() <= 1, load.toString());
        assertTrue(load.busy(), load.toString());
        assertTrue(load.toString().contains("busy"), load.toString());
    }

    @Test
    void throughputIsTheMedianStepAfterWarmUp() {
        // 10 steps: the first 2 are warm-up (a fifth); one slow step later does not move a median
        double[] tps = {10, 20, 100, 100, 100, 5, 100, 100, 100, 100};
        Table history = Table.create("history", DoubleColumn.create("step", new double[10]), DoubleColumn.create("tokens_per_s", tps),
                DoubleColumn.create("loss", new double[10]), DoubleColumn.create("tokens", new double[10]));
        TrainingRun run = new TrainingRun(TrainConfig.builder().build(), history, Table.create("evaluations", IntColumn.create("step"),
                DoubleColumn.create("val_loss")), StopReason.COMPLETED, "", 10, 1, 1, 1, Double.NaN, -1);
        assertEquals(100, run.steadyTokensPerSecond(), 0);
    }

    private static MethodResult row(String name, double tps, double otherLoad) {
        return new MethodResult(name, name + " config", MethodResult.Status.OK, "", 1e-3, 1_234_567, 3_000_000, 56_789, 32, 12_345_678,
                98_765_432, 12.345678, tps, 60, 0.123456789, 1.23456789, 0.987654321, 0.9131675499388504, MethodResult.emptyCurve(),
                MethodResult.emptyValidations(), otherLoad);
    }

    @Test
    void speedsMeasuredOnABusyMachineAreMarkedEverywhere(@TempDir Path tmp) {
        Comparison c = new Comparison("m", "d", 60, 10, Double.NaN, List.of(row("quiet", 4096.7, 0.03), row("noisy", 1723.2, 0.55)),
                Map.of("java", "17"));
        assertFalse(c.result("quiet").measuredOnBusyMachine());
        assertTrue(c.result("noisy").measuredOnBusyMachine());
        assertTrue(c.toString().contains("1,723*"), c.toString());
        assertTrue(c.busyNote().contains("noisy 55%") && !c.busyNote().contains("quiet 3%"), c.busyNote());
        assertTrue(c.toString().contains(c.busyNote()));
        assertFalse(c.toString().contains("NaN"), "no untrained accuracy was measured: " + c);
        Table shown = c.formattedTable();
        assertEquals("1,723 *", shown.getString(1, "tokens/s"));
        assertEquals("4,097", shown.getString(0, "tokens/s"));
        assertEquals("1,234,567", shown.getString(0, "trainable params"));
        assertEquals("0.913", shown.getString(0, "accuracy"));
        assertEquals("98.8", shown.getString(0, "peak MB"));
        assertEquals("55%", shown.getString(1, "others' CPU"));
        c.save(tmp);
        Comparison back = Comparison.load(tmp);
        assertEquals(0.55, back.result("noisy").otherLoad(), 0);
        assertTrue(back.result("noisy").measuredOnBusyMachine());
        assertEquals(String.format(Locale.ROOT, "%.1f", 55.0), String.format(Locale.ROOT, "%.1f",
                back.table().doubleColumn("other_load_pct").getDouble(1)));
    }
}
