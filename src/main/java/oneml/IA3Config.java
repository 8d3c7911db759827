package oneml;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;

/**
 * (IA)³ with Hugging Face PEFT's names and defaults: a learned vector, initialised to 1, that rescales the
 * output of each target module, or the input of the feed-forward ones.
 * {@code IA3Config.builder().targetModules("k_proj", "v_proj", "down_proj").feedforwardModules("down_proj").build()}
 * is PEFT's {@code IA3Config(target_modules=["k_proj","v_proj","down_proj"], feedforward_modules=["down_proj"])}.
 *
 * @param targetModules      module names matched as path suffixes, or {@code ["all-linear"]}; empty means PEFT's
 *                           default for the model's type, resolved when applied (k_proj, v_proj, down_proj for Llama
 *                           and Mistral; q_proj, v_proj, down_proj for Qwen2; c_attn, mlp.c_proj for GPT-2)
 * @param feedforwardModules the targets whose input (not output) is scaled; null means the type's default
 *                           (down_proj; mlp.c_proj for GPT-2), an empty list means none
 * @param initIa3Weights     start every vector at 1 (the adapter is then the identity); false draws them from N(0, 1)
 */
public record IA3Config(List<String> targetModules, List<String> feedforwardModules, boolean initIa3Weights) implements PeftConfig {

    public IA3Config {
        targetModules = List.copyOf(targetModules);
        feedforwardModules = feedforwardModules == null ? null : List.copyOf(feedforwardModules);
        boolean allLinear = targetModules.equals(List.of(LoRAConfig.ALL_LINEAR));
        // PEFT's own check, made when both lists are given explicitly
        if (feedforwardModules != null && !targetModules.isEmpty() && !allLinear
                && !new HashSet<>(targetModules).containsAll(feedforwardModules)) {
            throw new IllegalArgumentException("feedforward_modules " + feedforwardModules + " must be a subset of target_modules "
                    + targetModules);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String peftType() {
        return "IA3";
    }

    @Override
    public String label() {
        return "IA3";
    }

    @Override
    public String toString() {
        return "IA3Config(target_modules=" + (targetModules.isEmpty() ? "<model default>" : targetModules)
                + ", feedforward_modules=" + (feedforwardModules == null ? "<model default>" : feedforwardModules)
                + (initIa3Weights ? "" : ", init_ia3_weights=false") + ")";
    }

    /** Fluent builder with PEFT's defaults: the family's targets and feed-forward modules, vectors at 1. */
    public static final class Builder {
        private List<String> targetModules = new ArrayList<>();
        private List<String> feedforwardModules;
        private boolean initIa3Weights = true;

        private Builder() {}

        public Builder targetModules(String... names) {
            this.targetModules = new ArrayList<>(Arrays.asList(names));
            return this;
        }

        public Builder targetModules(List<String> names) {
            return targetModules(names.toArray(new String[0]));
        }

        public Builder feedforwardModules(String... names) {
            this.feedforwardModules = new ArrayList<>(Arrays.asList(names));
            return this;
        }

        public Builder feedforwardModules(List<String> names) {
            return feedforwardModules(names.toArray(new String[0]));
        }

        public Builder initIa3Weights(boolean on) {
            this.initIa3Weights = on;
            return this;
        }

        public IA3Config build() {
            return new IA3Config(targetModules, feedforwardModules, initIa3Weights);
        }
    }
}
