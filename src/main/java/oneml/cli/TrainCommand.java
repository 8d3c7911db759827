package oneml.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import oneml.Eval;
import oneml.IA3Config;
import oneml.LoRAConfig;
import oneml.Peft;
import oneml.PeftConfig;
import oneml.PrefixTuningConfig;
import oneml.PromptTuningConfig;
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
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Fine-tune with LoRA, DoRA, IA3, prompt tuning, prefix tuning or a bottleneck adapter and save the adapter.")
final class TrainCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;
    @Mixin DataOptions dataOptions;

    @Option(names = "--method", defaultValue = "lora", description = "lora, dora, qlora, ia3, prompt, prefix or adapter (default: ${DEFAULT-VALUE})")
    String method;
    @Option(names = "--r", defaultValue = "16", description = "LoRA rank (default: ${DEFAULT-VALUE})")
    int r;
    @Option(names = "--alpha", defaultValue = "32", description = "LoRA alpha (default: ${DEFAULT-VALUE})")
    double alpha;
    @Option(names = "--dropout", defaultValue = "0.1", description = "LoRA dropout (default: ${DEFAULT-VALUE})")
    double dropout;
    @Option(names = "--target-modules", split = ",",
            description = "modules to adapt, comma separated, or all-linear (default: PEFT's for the model's type: c_attn for"
                    + " GPT-2 and q_proj,v_proj for Llama, Mistral and Qwen2 with lora, dora and qlora; the IA3 defaults with ia3)")
    List<String> targetModules;
    @Option(names = "--num-virtual-tokens", defaultValue = "20", description = "prompt and prefix tuning: learned positions (default: ${DEFAULT-VALUE})")
    int numVirtualTokens;
    @Option(names = "--prompt-init-text", paramLabel = "TEXT", description = "prompt tuning: start from the embeddings of this text (TEXT init)")
    String promptInitText;
    @Option(names = "--prefix-projection", description = "prefix tuning: train the prefix through PEFT's two-layer MLP")
    boolean prefixProjection;
    @Option(names = "--adapter-config", defaultValue = "pfeiffer", description = "adapter: pfeiffer (after the MLP, relu) or houlsby (after attention and MLP, swish) (default: ${DEFAULT-VALUE})")
    String adapterPreset;
    @Option(names = "--reduction-factor", defaultValue = "16", description = "adapter: hidden size / bottleneck size (default: ${DEFAULT-VALUE})")
    int reductionFactor;
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

    @Option(names = "--patience-threshold", defaultValue = "0", description = "a validation loss must beat the best by more than this to reset the patience")
    double patienceThreshold;
    @Option(names = "--gradient-checkpointing", description = "recompute blocks in backward to save memory")
    boolean checkpointing;
    @Option(names = "--seed", defaultValue = "42")
    long seed;
    @Option(names = "--eval-limit", defaultValue = "200", description = "test rows scored before and after (0: all)")
    int evalLimit;
    @Option(names = "--quant-type", defaultValue = "nf4", description = "qlora: nf4 or fp4 (default: ${DEFAULT-VALUE})")
    String quantType;
    @Option(names = "--out", paramLabel = "DIR", description = "where the adapter is saved (default: out/adapters/<task>-<method>,"
            + " or the resumed run's folder)")
    Path out;
    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "0",
            description = "every N steps save what a resumed run needs into DIR/checkpoints/ (0: off)")
    int checkpointEvery;
    @Option(names = "--keep-checkpoints", paramLabel = "K", defaultValue = "2", description = "keep the newest K checkpoints (default: ${DEFAULT-VALUE})")
    int keepCheckpoints;
    @Option(names = "--resume", paramLabel = "DIR",
            description = "continue a killed run from its newest complete checkpoint: DIR is the run's --out folder or one"
                    + " checkpoint in it; give the other options as the run had them")
    Path resume;

    @Override
    public Integer call() {
        String m = method.toLowerCase(Locale.ROOT);
        PeftConfig config = config(m);
        TextDataset data = dataOptions.load();
        try (CausalLM base = modelOptions.loadBase()) {
            ModelOptions.requireTokenizer(base, modelOptions.model, "train");
            PeftModel model = Peft.apply(base, config, seed);
            System.out.println(config);
            model.printTrainableParameters();
            var before = Eval.accuracy(base, data.test(), 8, evalLimit);
            System.out.println("before training: test " + before);
            Path target = out != null ? out
                    : resume != null ? oneml.train.RunCheckpoint.runFolder(resume) : Path.of("out", "adapters", data.name() + "-" + m);
            TrainingRun run = Train.of(model, data).outputDir(target).checkpointEvery(checkpointEvery).checkpointsKept(keepCheckpoints)
                    .resumeFrom(resume).steps(steps).batchSize(batchSize).learningRate(lr).warmupSteps(warmup)
                    .evalEvery(evalEvery).earlyStoppingPatience(patience).earlyStoppingThreshold(patienceThreshold).gradientCheckpointing(checkpointing).seed(seed).run();
            var after = Eval.accuracy(base, data.test(), 8, evalLimit);
            System.out.println("after training:  test " + after);
            model.baseModelName(modelOptions.model == null ? "oneml-tiny" : modelOptions.model.toString()).save(target);
            System.out.println("adapter saved to " + target.toAbsolutePath());
            return run.stopReason() == StopReason.DIVERGED ? 3 : 0;
        }
    }

    /** A bottleneck adapter: AdapterHub's Pfeiffer or Houlsby preset with the given reduction factor. */
    private oneml.AdapterConfig bottleneckAdapter() {
        oneml.AdapterConfig preset = switch (adapterPreset.toLowerCase(Locale.ROOT)) {
            case "pfeiffer" -> oneml.AdapterConfig.pfeiffer();
            case "houlsby" -> oneml.AdapterConfig.houlsby();
            default -> throw new IllegalArgumentException("--adapter-config " + adapterPreset + " is unknown; choose pfeiffer or houlsby");
        };
        return preset.toBuilder().reductionFactor(reductionFactor).build();
    }

    /** The method's config from the options; lora stays the default. */
    private PeftConfig config(String m) {
        switch (m) {
            case "lora":
            case "dora":
                return LoRAConfig.builder().r(r).alpha(alpha).dropout(dropout)
                        .targetModules(targetModules == null ? List.of() : targetModules) // empty: the model type's default
                        .useRslora(rslora).useDora(m.equals("dora")).build();
            case "qlora":
                return oneml.QLoRAConfig.builder().r(r).alpha(alpha).dropout(dropout)
                        .targetModules((targetModules == null ? List.<String>of() : targetModules).toArray(new String[0]))
                        .useRslora(rslora).quantType(quantType).build();
            case "ia3":
                return IA3Config.builder().targetModules(targetModules == null ? List.of() : targetModules).build();
            case "prompt": {
                PromptTuningConfig.Builder b = PromptTuningConfig.builder().numVirtualTokens(numVirtualTokens);
                return (promptInitText == null ? b : b.promptTuningInitText(promptInitText)).build();
            }
            case "prefix":
                return PrefixTuningConfig.builder().numVirtualTokens(numVirtualTokens).prefixProjection(prefixProjection).build();
            case "adapter":
                return bottleneckAdapter();
            default:
                throw new IllegalArgumentException("--method " + method + " is not available; choose lora, dora, qlora, ia3, prompt, prefix or adapter");
        }
    }
}
