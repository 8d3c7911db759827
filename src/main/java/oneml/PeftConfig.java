package oneml;

/**
 * The configuration of one parameter-efficient fine-tuning method. Each method has its own record with
 * Hugging Face PEFT's field names and defaults; {@link Peft#apply} turns one into trainable adapters.
 */
public sealed interface PeftConfig permits LoRAConfig, QLoRAConfig, AdapterConfig, IA3Config, PromptTuningConfig, PrefixTuningConfig {
    /** PEFT's {@code peft_type} for adapter_config.json, e.g. "LORA". */
    String peftType();

    /** A short human name for tables and charts, e.g. "LoRA r=16" or "DoRA r=8". */
    String label();
}
