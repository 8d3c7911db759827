package oneml.cli;

import java.util.concurrent.Callable;
import oneml.model.CausalLM;
import oneml.model.GenerationConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Continues a prompt, greedily or by sampling. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Continue a prompt.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    @Option(names = "--prompt", required = true)
    String prompt;
    @Option(names = "--max-new-tokens", defaultValue = "20")
    int maxNewTokens;
    @Option(names = "--temperature", defaultValue = "0", description = "0 is greedy (default: ${DEFAULT-VALUE})")
    double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "sample among the k likeliest tokens (0: all)")
    int topK;
    @Option(names = "--seed", defaultValue = "42")
    long seed;

    @Override
    public Integer call() {
        try (CausalLM model = modelOptions.load()) {
            ModelOptions.requireTokenizer(model, modelOptions.model, "generate");
            // what the prompt's and the new tokens decode to together: a continuation inside a word stays joined to it
            System.out.println(model.complete(prompt, new GenerationConfig(maxNewTokens, temperature, topK, seed)));
        }
        return 0;
    }
}
