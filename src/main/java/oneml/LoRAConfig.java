package oneml;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * LoRA (and DoRA, with {@code useDora}) with Hugging Face PEFT's names and defaults:
 * {@code LoRAConfig.builder().r(16).alpha(32).dropout(0.1).targetModules("q_proj", "v_proj").build()}
 * is PEFT's {@code LoraConfig(r=16, lora_alpha=32, lora_dropout=0.1, target_modules=["q_proj","v_proj"])}.
 *
 * @param r                 rank of the update B·A
 * @param alpha             scaling numerator: the update is multiplied by alpha / r (alpha / sqrt(r) with rsLoRA)
 * @param dropout           dropout on the adapter's input during training
 * @param targetModules     module names matched as path suffixes, or {@code ["all-linear"]}; empty means PEFT's
 *                          default for the model's type, resolved when the config is applied (q_proj, v_proj for
 *                          Llama, Mistral and Qwen2; c_attn for GPT-2)
 * @param targetRegex       alternatively, a regular expression that must match a whole module path (null if unused)
 * @param bias              "none", "all" or "lora_only": which biases train alongside the adapter
 * @param useRslora         scale by alpha / sqrt(r) instead of alpha / r
 * @param useDora           weight-decomposed LoRA: a trainable magnitude per output row
 * @param initLoraWeights   "true" (B = 0, A Kaiming-uniform), "gaussian" (A ~ N(0, 1/r)) or "false" (both random)
 * @param modulesToSave     modules trained in full beside the adapter and saved with it (e.g. "lm_head")
 * @param layersToTransform only these layer indices (empty: all layers)
 * @param rankPattern       per-module rank overrides; keys are regexes matched against the end of a module path
 * @param alphaPattern      per-module alpha overrides, matched as rankPattern
 */
public record LoRAConfig(
        int r,
        double alpha,
        double dropout,
        List<String> targetModules,
        String targetRegex,
        String bias,
        boolean useRslora,
        boolean useDora,
        String initLoraWeights,
        List<String> modulesToSave,
        List<Integer> layersToTransform,
        Map<String, Integer> rankPattern,
        Map<String, Double> alphaPattern) implements PeftConfig {

    public static final String ALL_LINEAR = "all-linear";

    public LoRAConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("LoRA rank r must be positive, got " + r);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        }
        if (!List.of("none", "all", "lora_only").contains(bias)) {
            throw new IllegalArgumentException("bias must be \"none\", \"all\" or \"lora_only\", got \"" + bias + "\"");
        }
        if (!List.of("true", "gaussian", "false").contains(initLoraWeights)) {
            throw new IllegalArgumentException("initLoraWeights must be \"true\", \"gaussian\" or \"false\", got \"" + initLoraWeights + "\"");
        }
        targetModules = List.copyOf(targetModules);
        modulesToSave = List.copyOf(modulesToSave);
        layersToTransform = List.copyOf(layersToTransform);
        rankPattern = Map.copyOf(rankPattern);
        alphaPattern = Map.copyOf(alphaPattern);
        rankPattern.forEach((k, v) -> {
            if (v <= 0) {
                throw new IllegalArgumentException("rankPattern '" + k + "' must map to a positive rank, got " + v);
            }
        });
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder preloaded with this config's values, for variations in a notebook. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.r = r;
        b.alpha = alpha;
        b.dropout = dropout;
        b.targetModules = new ArrayList<>(targetModules);
        b.targetRegex = targetRegex;
        b.bias = bias;
        b.useRslora = useRslora;
        b.useDora = useDora;
        b.initLoraWeights = initLoraWeights;
        b.modulesToSave = new ArrayList<>(modulesToSave);
        b.layersToTransform = new ArrayList<>(layersToTransform);
        b.rankPattern = new LinkedHashMap<>(rankPattern);
        b.alphaPattern = new LinkedHashMap<>(alphaPattern);
        return b;
    }

    @Override
    public String peftType() {
        return "LORA";
    }

    @Override
    public String label() {
        return (useDora ? "DoRA" : "LoRA") + " r=" + r;
    }

    /** The multiplier of B·A for a module with rank {@code rank} and alpha {@code a}. */
    public static double scaling(double a, int rank, boolean rslora) {
        return rslora ? a / Math.sqrt(rank) : a / rank;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(useDora ? "LoRAConfig[DoRA](" : "LoRAConfig(");
        s.append("r=").append(r).append(", alpha=").append(fmt(alpha)).append(", dropout=").append(fmt(dropout));
        s.append(", target_modules=");
        if (targetRegex != null) {
            s.append('"').append(targetRegex).append('"');
        } else if (targetModules.isEmpty()) {
            s.append("<model default>");
        } else {
            s.append(targetModules);
        }
        if (!bias.equals("none")) {
            s.append(", bias=").append(bias);
        }
        if (useRslora) {
            s.append(", use_rslora=true");
        }
        if (!initLoraWeights.equals("true")) {
            s.append(", init_lora_weights=").append(initLoraWeights);
        }
        if (!modulesToSave.isEmpty()) {
            s.append(", modules_to_save=").append(modulesToSave);
        }
        if (!layersToTransform.isEmpty()) {
            s.append(", layers_to_transform=").append(layersToTransform);
        }
        if (!rankPattern.isEmpty()) {
            s.append(", rank_pattern=").append(rankPattern);
        }
        if (!alphaPattern.isEmpty()) {
            s.append(", alpha_pattern=").append(alphaPattern);
        }
        return s.append(')').toString();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%s", v);
    }

    /** Fluent builder with PEFT's defaults: r=8, alpha=8, dropout=0, bias none, init true. */
    public static final class Builder {
        private int r = 8;
        private double alpha = 8;
        private double dropout = 0.0;
        private List<String> targetModules = new ArrayList<>();
        private String targetRegex;
        private String bias = "none";
        private boolean useRslora;
        private boolean useDora;
        private String initLoraWeights = "true";
        private List<String> modulesToSave = new ArrayList<>();
        private List<Integer> layersToTransform = new ArrayList<>();
        private Map<String, Integer> rankPattern = new LinkedHashMap<>();
        private Map<String, Double> alphaPattern = new LinkedHashMap<>();

        private Builder() {}

        public Builder r(int r) {
            this.r = r;
            return this;
        }

        public Builder alpha(double alpha) {
            this.alpha = alpha;
            return this;
        }

        public Builder dropout(double dropout) {
            this.dropout = dropout;
            return this;
        }

        /** Module names matched as suffixes of module paths, e.g. "q_proj", "v_proj"; or "all-linear". */
        public Builder targetModules(String... names) {
            this.targetModules = new ArrayList<>(Arrays.asList(names));
            this.targetRegex = null;
            return this;
        }

        public Builder targetModules(List<String> names) {
            return targetModules(names.toArray(new String[0]));
        }

        /** A regular expression that must match a whole module path, as PEFT does for a string target. */
        public Builder targetRegex(String regex) {
            this.targetRegex = regex;
            this.targetModules = new ArrayList<>();
            return this;
        }

        public Builder bias(String bias) {
            this.bias = bias;
            return this;
        }

        public Builder useRslora(boolean on) {
            this.useRslora = on;
            return this;
        }

        public Builder useDora(boolean on) {
            this.useDora = on;
            return this;
        }

        /** "true", "gaussian" or "false", as PEFT's init_lora_weights. */
        public Builder initLoraWeights(String mode) {
            this.initLoraWeights = mode;
            return this;
        }

        public Builder initLoraWeights(boolean on) {
            return initLoraWeights(String.valueOf(on));
        }

        /** Modules trained in full and saved with the adapter, e.g. "lm_head" or "embed_tokens". */
        public Builder modulesToSave(String... modules) {
            this.modulesToSave = new ArrayList<>(Arrays.asList(modules));
            return this;
        }

        public Builder layersToTransform(Integer... layers) {
            this.layersToTransform = new ArrayList<>(Arrays.asList(layers));
            return this;
        }

        public Builder rankPattern(Map<String, Integer> pattern) {
            this.rankPattern = new LinkedHashMap<>(pattern);
            return this;
        }

        public Builder alphaPattern(Map<String, Double> pattern) {
            this.alphaPattern = new LinkedHashMap<>(pattern);
            return this;
        }

        public LoRAConfig build() {
            return new LoRAConfig(r, alpha, dropout, targetModules, targetRegex, bias, useRslora, useDora, initLoraWeights,
                    modulesToSave, layersToTransform, rankPattern, alphaPattern);
        }
    }
}
