package oneml.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import oneml.Compare;
import oneml.compare.Candidate;
import oneml.compare.Comparison;
import oneml.compare.MemoryPlanner;
import oneml.compare.ModelShape;
import oneml.data.TextDataset;
import oneml.viz.ComparisonReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The main job: every method on one base and dataset, a results table, charts and an HTML report. */
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
    @Option(names = "--out", defaultValue = "out/compare", paramLabel = "DIR",
            description = "where report.html, results.json, results.csv, the charts and the adapters go (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() {
        Candidate.presets(methods); // a misspelt method fails before anything trains
        TextDataset data = dataOptions.load();
        Compare compare = model == null ? Compare.tiny(data) : Compare.of(model, data);
        Comparison result = compare.methods(methods).steps(steps).batchSize(batchSize).evalEvery(evalEvery).evalLimit(evalLimit).seed(seed)
                .saveAdaptersTo(out.resolve("adapters")).run();
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
}
