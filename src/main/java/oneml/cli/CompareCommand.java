package oneml.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import oneml.Compare;
import oneml.compare.Candidate;
import oneml.compare.Comparison;
import oneml.compare.MemoryPlanner;
import oneml.compare.MethodResult;
import oneml.compare.ModelShape;
import oneml.data.TextDataset;
import oneml.io.AtomicFiles;
import oneml.viz.ComparisonReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The main job: every method on one base and dataset, a results table, charts and an HTML report. Each method runs
 * in its own JVM (like {@code bench}), so its peak memory cannot be hidden by pages an earlier method left behind;
 * {@code --in-process} runs them all here instead, as the notebook API does.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Fine-tune each PEFT method (and full fine-tuning) on the same model and data; write a table, charts and an HTML report.")
final class CompareCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model folder (default: the embedded oneml-tiny)")
    Path model;
    @Mixin DataOptions dataOptions;
    @Option(names = "--methods", split = ",", defaultValue = "full,lora,dora,qlora,ia3,prompt,prefix,adapter",
            description = "methods to run, comma separated (default: ${DEFAULT-VALUE})")
    List<String> methods;
    @Option(names = "--steps", defaultValue = "60", description = "optimiser steps per method (default: ${DEFAULT-VALUE})")
    int steps;
    @Option(names = "--batch-size", defaultValue = "16", description = "examples per step (default: ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--eval-every", defaultValue = "20", description = "validate every N steps (default: ${DEFAULT-VALUE})")
    int evalEvery;
    @Option(names = "--eval-limit", defaultValue = "100", description = "test rows answered for the accuracy column (0: all; default: ${DEFAULT-VALUE})")
    int evalLimit;
    @Option(names = "--seed", defaultValue = "42")
    long seed;
    @Option(names = "--in-process", description = "run every method in this JVM (faster start; memory figures of later methods may read low)")
    boolean inProcess;
    @Option(names = "--out", defaultValue = "out/compare", paramLabel = "DIR",
            description = "where report.html, results.json, results.csv, the charts and the adapters go (default: ${DEFAULT-VALUE})")
    Path out;
    @Option(names = "--child-result", hidden = true, description = "internal: run the methods here and save the comparison to FILE")
    Path childResult;
    @Option(names = "--no-baseline", hidden = true, description = "internal: do not score the untrained model")
    boolean noBaseline;

    @Override
    public Integer call() throws IOException, InterruptedException {
        List<Candidate> candidates = Candidate.presets(methods); // a misspelt method fails before anything trains
        TextDataset data = dataOptions.load();
        if (childResult != null) {
            runHere(data).save(childResult.getParent() == null ? Path.of(".") : childResult.getParent());
            return 0;
        }
        Comparison result = inProcess ? runHere(data) : runIsolated(data, candidates);
        System.out.println();
        System.out.println(result);
        ModelShape shape = model == null ? ModelShape.tiny() : ModelShape.of(model);
        var plan = MemoryPlanner.of(shape).batchSize(batchSize).sequenceLength(64).plan();
        Path report = ComparisonReport.write(result, plan, out);
        System.out.println();
        System.out.println("report: " + report.toAbsolutePath());
        System.out.println("results: " + out.resolve(Comparison.JSON).toAbsolutePath() + ", " + out.resolve(Comparison.CSV).toAbsolutePath());
        return result.results().stream().anyMatch(r -> !r.hasNumbers()) ? 1 : 0;
    }

    private Comparison runHere(TextDataset data) {
        Compare compare = model == null ? Compare.tiny(data) : Compare.of(model, data);
        compare.methods(methods).steps(steps).batchSize(batchSize).evalEvery(evalEvery).evalLimit(evalLimit).seed(seed)
                .saveAdaptersTo(out.resolve("adapters"));
        return (noBaseline ? compare.withoutBaseline() : compare).run();
    }

    /** One child JVM per method, its output shown as it runs; a child that fails leaves a FAILED row. */
    private Comparison runIsolated(TextDataset data, List<Candidate> candidates) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("oneml-compare-");
        List<MethodResult> results = new ArrayList<>();
        Comparison first = null;
        try {
            for (int i = 0; i < candidates.size(); i++) {
                Candidate c = candidates.get(i);
                Path dir = work.resolve(c.name());
                List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss4m",
                        "-Dai.djl.offline=true", "-Doneml.home=" + System.getProperty("oneml.home", "."), "-cp",
                        System.getProperty("java.class.path"), Main.class.getName(), "compare", "--methods", c.name(),
                        "--steps", String.valueOf(steps), "--batch-size", String.valueOf(batchSize), "--eval-every", String.valueOf(evalEvery),
                        "--eval-limit", String.valueOf(evalLimit), "--seed", String.valueOf(seed), "--data", dataOptions.data,
                        "--out", out.toString(), "--child-result", dir.resolve(Comparison.JSON).toString()));
                if (model != null) {
                    cmd.addAll(List.of("--model", model.toString()));
                }
                if (i > 0) {
                    cmd.add("--no-baseline"); // the first child scores the untrained model once
                }
                int code = new ProcessBuilder(cmd).inheritIO().start().waitFor();
                Path file = dir.resolve(Comparison.JSON);
                if (code != 0 || !Files.isRegularFile(file)) {
                    results.add(MethodResult.notRun(c, MethodResult.Status.FAILED, "its JVM exited with code " + code));
                    continue;
                }
                Comparison one = Comparison.load(file);
                first = first == null ? one : first;
                results.addAll(one.results());
            }
        } finally {
            AtomicFiles.deleteTree(work);
        }
        if (first == null) {
            throw new IllegalStateException("no method could run; see the messages above");
        }
        return new Comparison(first.model(), first.dataset(), first.steps(), first.testRows(), first.baselineMetric(), results,
                first.environment());
    }
}
