package oneml.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import oneml.Eval;
import oneml.LoRAConfig;
import oneml.Peft;
import oneml.Train;
import oneml.data.TextDataset;
import oneml.model.CausalLM;
import oneml.peft.PeftModel;
import oneml.train.StopReason;
import oneml.train.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Fine-tunes an adapter, shows before/after task accuracy, and saves the adapter in PEFT's format. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Fine-tune with LoRA or DoRA and save the adapter.")
final class TrainCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;
    @Mixin DataOptions dataOptions;

    @Option(names = "--method", defaultValue = "lora", description = "lora or dora (default: ${DEFAULT-VALUE})")
    String method;
    @Option(names = "--r", defaultValue = "16", description = "LoRA rank (default: ${DEFAULT-VALUE})")
    int r;
    @Option(names = "--alpha", defaultValue = "32", description = "LoRA alpha (default: ${DEFAULT-VALUE})")
    double alpha;
    @Option(names = "--dropout", defaultValue = "0.1", description = "LoRA dropout (default: ${DEFAULT-VALUE})")
    double dropout;
    @Option(names = "--target-modules", split = ",", defaultValue = "q_proj,v_proj",
            description = "modules to adapt, comma separated, or all-linear (default: ${DEFAULT-VALUE})")
    List<String> targetModules;
    @Option(names = "--use-rslora", description = "scale by alpha/sqrt(r)")
    boolean rslora;
    @Option(names = "--steps", defaultValue = "300", description = "optimiser steps (default: ${DEFAULT-VALUE})")
    int steps;
    @Option(names = "--batch-size", defaultValue = "16", description = "examples per step (default: ${DEFAULT-VALUE})")
    int batchSize;
    @Option(names = "--lr", defaultValue = "2e-3", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    double lr;
    @Option(names = "--warmup-steps", defaultValue = "10")
    int warmup;
    @Option(names = "--eval-every", defaultValue = "50", description = "validate every N steps (default: ${DEFAULT-VALUE})")
    int evalEvery;
    @Option(names = "--patience", defaultValue = "0", description = "early-stopping patience in validations (0: off)")
    int patience;
    @Option(names = "--gradient-checkpointing", description = "recompute blocks in backward to save memory")
    boolean checkpointing;
    @Option(names = "--seed", defaultValue = "42")
    long seed;
    @Option(names = "--eval-limit", defaultValue = "200", description = "test rows scored before and after (0: all)")
    int evalLimit;
    @Option(names = "--out", paramLabel = "DIR", description = "where the adapter is saved (default: out/adapters/<task>-<method>)")
    Path out;

    @Override
    public Integer call() {
        String m = method.toLowerCase(Locale.ROOT);
        if (!m.equals("lora") && !m.equals("dora")) {
            throw new IllegalArgumentException("--method " + method + " is not available yet; choose lora or dora");
        }
        LoRAConfig config = LoRAConfig.builder().r(r).alpha(alpha).dropout(dropout).targetModules(targetModules)
                .useRslora(rslora).useDora(m.equals("dora")).build();
        TextDataset data = dataOptions.load();
        try (CausalLM base = modelOptions.loadBase()) {
            PeftModel model = Peft.apply(base, config, seed);
            System.out.println(config);
            model.printTrainableParameters();
            var before = Eval.accuracy(base, data.test(), 8, evalLimit);
            System.out.println("before training: test " + before);
            TrainingRun run = Train.of(model, data).steps(steps).batchSize(batchSize).learningRate(lr).warmupSteps(warmup)
                    .evalEvery(evalEvery).earlyStoppingPatience(patience).gradientCheckpointing(checkpointing).seed(seed).run();
            var after = Eval.accuracy(base, data.test(), 8, evalLimit);
            System.out.println("after training:  test " + after);
            Path target = out != null ? out : Path.of("out", "adapters", data.name() + "-" + m);
            model.baseModelName(modelOptions.model == null ? "oneml-tiny" : modelOptions.model.toString()).save(target);
            System.out.println("adapter saved to " + target.toAbsolutePath());
            return run.stopReason() == StopReason.DIVERGED ? 3 : 0;
        }
    }
}
