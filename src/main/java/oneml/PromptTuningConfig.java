package oneml;

/**
 * Prompt tuning with Hugging Face PEFT's names and defaults: {@code numVirtualTokens} learned embeddings
 * placed in front of every input's token embeddings; the model itself stays frozen.
 * {@code PromptTuningConfig.builder().numVirtualTokens(8).promptTuningInit(Init.TEXT).promptTuningInitText("Classify:").build()}
 * is PEFT's {@code PromptTuningConfig(num_virtual_tokens=8, prompt_tuning_init="TEXT", prompt_tuning_init_text="Classify:")}.
 *
 * @param numVirtualTokens     learned positions prepended to the input
 * @param promptTuningInit     how they start: RANDOM (N(0, 1), PEFT's default), TEXT (the embeddings of
 *                             {@code promptTuningInitText}'s tokens, repeated or cut to length) or SAMPLE_VOCAB
 *                             (the embeddings of tokens drawn uniformly from the vocabulary)
 * @param promptTuningInitText the text for TEXT; it is encoded with the model's own tokenizer
 * @param tokenizerNameOrPath  recorded in adapter_config.json (PEFT requires one with TEXT); null records the
 *                             folder of the model's tokenizer
 * @param inferenceMode        PEFT's inference_mode: the values will come from a saved adapter, so no initialisation
 *                             is done (adapters read from a folder are in this mode, as in PEFT)
 */
public record PromptTuningConfig(
        int numVirtualTokens,
        Init promptTuningInit,
        String promptTuningInitText,
        String tokenizerNameOrPath,
        boolean inferenceMode) implements PeftConfig {

    /** PEFT's PromptTuningInit. */
    public enum Init { RANDOM, TEXT, SAMPLE_VOCAB }

    public PromptTuningConfig {
        if (numVirtualTokens <= 0) {
            throw new IllegalArgumentException("prompt tuning needs num_virtual_tokens > 0, got " + numVirtualTokens);
        }
        if (promptTuningInit == null) {
            throw new IllegalArgumentException("prompt_tuning_init must be RANDOM, TEXT or SAMPLE_VOCAB, got null");
        }
        if (promptTuningInit == Init.TEXT && (promptTuningInitText == null || promptTuningInitText.isBlank())) {
            throw new IllegalArgumentException("prompt_tuning_init TEXT needs a prompt_tuning_init_text to take the embeddings from");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String peftType() {
        return "PROMPT_TUNING";
    }

    @Override
    public String label() {
        return "Prompt tuning " + numVirtualTokens + " tokens";
    }

    @Override
    public String toString() {
        return "PromptTuningConfig(num_virtual_tokens=" + numVirtualTokens + ", prompt_tuning_init=" + promptTuningInit
                + (promptTuningInitText == null ? "" : ", prompt_tuning_init_text=\"" + promptTuningInitText + "\"")
                + (inferenceMode ? ", inference_mode=true" : "") + ")";
    }

    /** Fluent builder with PEFT's defaults (RANDOM init); PEFT has no default token count, this one starts at 20. */
    public static final class Builder {
        private int numVirtualTokens = 20;
        private Init promptTuningInit = Init.RANDOM;
        private String promptTuningInitText;
        private String tokenizerNameOrPath;
        private boolean inferenceMode;

        private Builder() {}

        public Builder numVirtualTokens(int n) {
            this.numVirtualTokens = n;
            return this;
        }

        public Builder promptTuningInit(Init init) {
            this.promptTuningInit = init;
            return this;
        }

        /** Also sets the init to TEXT, the only mode that reads it. */
        public Builder promptTuningInitText(String text) {
            this.promptTuningInitText = text;
            this.promptTuningInit = Init.TEXT;
            return this;
        }

        public Builder tokenizerNameOrPath(String name) {
            this.tokenizerNameOrPath = name;
            return this;
        }

        public Builder inferenceMode(boolean on) {
            this.inferenceMode = on;
            return this;
        }

        public PromptTuningConfig build() {
            return new PromptTuningConfig(numVirtualTokens, promptTuningInit, promptTuningInitText, tokenizerNameOrPath, inferenceMode);
        }
    }
}
