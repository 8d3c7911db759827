package oneml.cli;

import java.util.Locale;
import java.util.concurrent.Callable;
import oneml.Eval;
import oneml.data.TextDataset;
import oneml.model.CausalLM;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Task accuracy (by generation) and perplexity of a model, with or without an adapter. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Score a model (and adapter) on a task's test split.")
final class EvalCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;
    @Mixin DataOptions dataOptions;

    @Option(names = "--split", defaultValue = "test", description = "train, validation or test (default: ${DEFAULT-VALUE})")
    String split;
    @Option(names = "--limit", defaultValue = "0", description = "score only the first N rows (0: all)")
    int limit;
    @Option(names = "--show", defaultValue = "5", description = "print this many predictions")
    int show;

    @Override
    public Integer call() {
        TextDataset data = dataOptions.load();
        try (CausalLM model = modelOptions.load()) {
            ModelOptions.requireTokenizer(model, modelOptions.model, "eval");
            var table = data.split(split);
            var result = Eval.accuracy(model, table, 8, limit);
            double ppl = Eval.perplexity(model, limit > 0 ? table.first(limit) : table);
            System.out.printf(Locale.ROOT, "%s/%s: %s, perplexity %.3f%n", data.name(), split, result, ppl);
            System.out.println(result.predictions().first(show).printAll());
        }
        return 0;
    }
}
