package oneml.cli;

import java.util.Locale;
import java.util.concurrent.Callable;
import oneml.model.CausalLM;
import oneml.peft.TargetMatcher;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** What a model is: config, parameter count, module names (the names target_modules matches). */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show a model's config and module names.")
final class InfoCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;

    @Override
    public Integer call() {
        try (CausalLM model = modelOptions.loadBase()) {
            System.out.println(model);
            System.out.printf(Locale.ROOT, "parameters: %,d (%.1f MB as float32)%n", model.parameterCount(), model.parameterCount() * 4 / 1e6);
            if (model.isQuantized()) {
                System.out.println("linear weights: " + model.quantization());
            }
            System.out.println("tokenizer: " + (model.hasTokenizer() ? model.tokenizer().file() : "none"));
            System.out.println("linear module names (for target_modules): " + TargetMatcher.shortNames(model.linears().keySet()));
            System.out.println("modules:");
            model.moduleNames().forEach(n -> System.out.println("  " + n + (model.linears().containsKey(n)
                    ? "  [" + model.linears().get(n).inFeatures() + " -> " + model.linears().get(n).outFeatures() + "]" : "")));
        }
        return 0;
    }
}
