package oneml.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import oneml.AdapterConfig;
import oneml.IA3Config;
import oneml.LoRAConfig;
import oneml.PeftConfig;
import oneml.PrefixTuningConfig;
import oneml.PromptTuningConfig;
import oneml.QLoRAConfig;

/**
 * One entry of a comparison: a short name for tables and charts, the method's config ({@code null} for full
 * fine-tuning, the baseline) and the peak learning rate it trains with.
 *
 * <p>Methods want very different learning rates: a handful of virtual tokens or a scaling vector needs a much
 * larger step than a full weight matrix. {@link #preset(String)} gives each method a rate that trains the embedded
 * default well in a short budget, so a comparison is fair without a sweep.
 */
public record Candidate(String name, PeftConfig config, double learningRate) {

    /** The short names {@link #preset(String)} knows, in the order a comparison shows them. */
    public static final List<String> PRESETS = List.of("full", "lora", "dora", "qlora", "ia3", "prompt", "prefix", "adapter");

    public Candidate {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a comparison entry needs a name, e.g. \"lora\"");
        }
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException(name + ": learning rate must be a positive number, got " + learningRate);
        }
    }

    /** Full fine-tuning: every weight trains (the baseline). */
    public static Candidate full(double learningRate) {
        return new Candidate("full", null, learningRate);
    }

    public static Candidate of(String name, PeftConfig config, double learningRate) {
        if (config == null) {
            throw new IllegalArgumentException(name + ": config is null; use Candidate.full(lr) for full fine-tuning");
        }
        return new Candidate(name, config, learningRate);
    }

    public boolean isFullFineTuning() {
        return config == null;
    }

    /** "full fine-tuning", or the config's label such as "LoRA r=8". */
    public String label() {
        return config == null ? "full fine-tuning" : config.label();
    }

    /**
     * A method with the comparison's default config and learning rate: LoRA, DoRA and QLoRA at r=8, alpha=16 on
     * PEFT's default targets for the model's type (q_proj and v_proj for Llama, Mistral and Qwen2, c_attn for GPT-2,
     * resolved when the config is applied); IA3 with PEFT's default targets; prompt and prefix tuning with 10 virtual tokens; a
     * Pfeiffer bottleneck adapter (reduction 16).
     */
    public static Candidate preset(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        LoRAConfig lora = LoRAConfig.builder().r(8).alpha(16).build();
        return switch (n) {
            case "full" -> full(5e-4);
            case "lora" -> of(n, lora, 5e-3);
            case "dora" -> of(n, lora.toBuilder().useDora(true).build(), 5e-3);
            case "qlora" -> of(n, QLoRAConfig.builder().r(8).alpha(16).build(), 5e-3);
            case "ia3" -> of(n, IA3Config.builder().build(), 1e-1);
            case "prompt" -> of(n, PromptTuningConfig.builder().numVirtualTokens(10).build(), 3e-1);
            case "prefix" -> of(n, PrefixTuningConfig.builder().numVirtualTokens(10).build(), 1e-1);
            case "adapter" -> of(n, AdapterConfig.pfeiffer(), 1e-2);
            default -> throw new IllegalArgumentException("unknown method '" + name + "'; choose from " + PRESETS);
        };
    }

    /** {@link #preset(String)} for each name. */
    public static List<Candidate> presets(List<String> names) {
        List<Candidate> out = new ArrayList<>();
        for (String n : names) {
            out.add(preset(n));
        }
        return out;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s: %s, lr %.0e", name, config == null ? "full fine-tuning" : config, learningRate);
    }
}
