package oneml.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import oneml.sweep.SweepBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The sweep backends' throughput and Spark's per-trial overhead on this machine, as ratios measured in one run. */
@Command(name = "sweep-bench", mixinStandardHelpOptions = true,
        description = "Measure sweep throughput (trials one at a time with all cores, vs two at a time locally and on a two-executor"
                + " Spark cluster) and Spark's per-trial overhead, on the embedded default; writes bench.txt and bench.json.")
final class SweepBenchCommand implements Callable<Integer> {
    @Option(names = "--trials", defaultValue = "16", description = "trials per throughput run, even (default: ${DEFAULT-VALUE})")
    int trials;
    @Option(names = "--steps", defaultValue = "60", description = "training steps per trial (default: ${DEFAULT-VALUE})")
    int steps;
    @Option(names = "--overhead-trials", defaultValue = "3", description = "trials timed alone and on Spark (default: ${DEFAULT-VALUE})")
    int overheadTrials;
    @Option(names = "--out", defaultValue = "out/sweep-bench", paramLabel = "DIR", description = "(default: ${DEFAULT-VALUE}); emptied first")
    Path out;

    @Override
    public Integer call() {
        SweepBench.Result r = SweepBench.run(trials, steps, overheadTrials, out, System.out::println);
        System.out.println();
        System.out.print(r);
        System.out.println("written: " + out.resolve("bench.txt").toAbsolutePath());
        return 0;
    }
}
