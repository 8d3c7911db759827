package oneml.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import oneml.sweep.Sweep;
import oneml.sweep.SweepPlan;
import oneml.sweep.SweepResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Hyperparameter and method sweeps: the trials of a spec file (or the built-in example: LoRA's rank against its
 * learning rate on the embedded default, 2 seeds), each in its own JVM, several at a time; results.json, results.csv
 * and report.html in the output folder. Started again with the same spec and folder, it skips finished trials.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Run a hyperparameter / method sweep (a grid or random sample per method, times seeds); write a table per trial,"
                + " aggregates over seeds and an HTML report. Spec format: examples/sweeps/README.md.")
final class SweepCommand implements Callable<Integer> {
    @Option(names = "--spec", paramLabel = "FILE", description = "sweep spec (JSON); default: the built-in example, LoRA r x learning rate, 2 seeds")
    Path spec;
    @Option(names = "--backend", defaultValue = "local",
            description = "where trials run: local (child JVMs on this machine; default) or spark (Spark tasks; see --master)")
    String backend;
    @Option(names = "--master", paramLabel = "URL", description = "Spark master for --backend spark: local[N] (default: local[--parallel]),"
            + " spark://HOST:PORT, yarn or k8s://...; executors must read oneml, the model and the data at this machine's paths")
    String master;
    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "a Spark setting for --backend spark, e.g. spark.task.cpus=2 (repeatable)")
    Map<String, String> conf = new LinkedHashMap<>();
    @Option(names = "--parallel", defaultValue = "1", description = "trials at a time, each with its share of the cores (default: ${DEFAULT-VALUE})")
    int parallel;
    @Option(names = "--out", defaultValue = "out/sweep", paramLabel = "DIR",
            description = "where trials/, report.html, results.json and results.csv go (default: ${DEFAULT-VALUE})")
    Path out;
    @Option(names = "--plan", description = "list the trials and their count, then stop (nothing runs)")
    boolean planOnly;

    @Override
    public Integer call() {
        String where = backend.toLowerCase(Locale.ROOT);
        if (!where.equals("local") && !where.equals("spark")) {
            throw new IllegalArgumentException("unknown backend '" + backend + "': use --backend local (child JVMs on this machine) or"
                    + " --backend spark (with --master)");
        }
        if (where.equals("local") && (master != null || !conf.isEmpty())) {
            throw new IllegalArgumentException("--master and --conf are for --backend spark; add it, or leave them out");
        }
        Sweep sweep = (spec == null ? Sweep.example() : Sweep.load(spec)).parallel(parallel).out(out);
        if (where.equals("spark")) {
            sweep.spark(master == null ? "local[" + parallel + "]" : master);
            conf.forEach(sweep::sparkConf);
        }
        SweepPlan plan;
        try {
            plan = sweep.plan(); // bad fields and values stop here, before anything trains
        } catch (IllegalArgumentException e) {
            throw spec == null ? e : new IllegalArgumentException(spec + ": " + e.getMessage() + " (the format: examples/sweeps/README.md)", e);
        }
        System.out.println(plan);
        if (planOnly) {
            return 0;
        }
        SweepResult result = sweep.run();
        System.out.println();
        System.out.println(result);
        System.out.println();
        System.out.println("report: " + out.resolve("report.html").toAbsolutePath());
        System.out.println("results: " + out.resolve(SweepResult.JSON).toAbsolutePath() + ", " + out.resolve(SweepResult.CSV).toAbsolutePath());
        if (Thread.currentThread().isInterrupted() || result.trials().size() < plan.count()) {
            System.out.println((plan.count() - result.trials().size()) + " trials did not run; run the same command again to do them");
            return 1;
        }
        return result.failedCount() > 0 ? 1 : 0;
    }
}
