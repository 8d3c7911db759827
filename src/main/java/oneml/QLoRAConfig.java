package oneml;

import java.util.Locale;
import oneml.quant.QuantConfig;
import oneml.quant.QuantType;

/**
 * QLoRA: LoRA adapters over a frozen base whose linear weights are stored in 4 bits (NF4 by default, with
 * double quantisation of the block scales, as bitsandbytes does). The adapter itself is plain LoRA and
 * saves as PEFT's "LORA" adapter; only the base's storage differs.
 * {@code QLoRAConfig.builder().r(64).alpha(16).targetModules("all-linear").build()} is the paper's recipe.
 *
 * @param lora  the adapter (PEFT's LoraConfig fields and defaults)
 * @param quant how the base is stored: type nf4 / fp4, blocksize 64, double quantisation on
 */
public record QLoRAConfig(LoRAConfig lora, QuantConfig quant) implements PeftConfig {

    public QLoRAConfig {
        if (lora == null || quant == null) {
            throw new IllegalArgumentException("QLoRAConfig needs both a LoRA config and a quantisation config");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String peftType() {
        return "LORA";
    }

    @Override
    public String label() {
        return "QLoRA r=" + lora.r();
    }

    @Override
    public String toString() {
        return "QLoRAConfig(" + lora.toString().replaceFirst("^LoRAConfig(\\[DoRA\\])?\\(", "").replaceFirst("\\)$", "")
                + String.format(Locale.ROOT, ", quant_type=%s, blocksize=%d, double_quant=%s)",
                        quant.type().name().toLowerCase(Locale.ROOT), quant.blocksize(), quant.doubleQuant());
    }

    /** The LoRA builder's options plus quantType, blocksize and doubleQuant. */
    public static final class Builder {
        private final LoRAConfig.Builder lora = LoRAConfig.builder();
        private QuantType type = QuantType.NF4;
        private int blocksize = QuantConfig.DEFAULT_BLOCKSIZE;
        private boolean doubleQuant = true;

        private Builder() {}

        public Builder r(int r) { lora.r(r); return this; }
        public Builder alpha(double alpha) { lora.alpha(alpha); return this; }
        public Builder dropout(double dropout) { lora.dropout(dropout); return this; }
        public Builder targetModules(String... names) { lora.targetModules(names); return this; }
        public Builder targetRegex(String regex) { lora.targetRegex(regex); return this; }
        public Builder bias(String bias) { lora.bias(bias); return this; }
        public Builder useRslora(boolean on) { lora.useRslora(on); return this; }
        public Builder useDora(boolean on) { lora.useDora(on); return this; }
        public Builder initLoraWeights(String mode) { lora.initLoraWeights(mode); return this; }
        public Builder modulesToSave(String... modules) { lora.modulesToSave(modules); return this; }
        public Builder layersToTransform(Integer... layers) { lora.layersToTransform(layers); return this; }

        /** "nf4" (default) or "fp4". */
        public Builder quantType(String name) {
            try {
                this.type = QuantType.valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("quantType must be \"nf4\" or \"fp4\", got \"" + name + "\"");
            }
            return this;
        }

        public Builder blocksize(int size) { this.blocksize = size; return this; }
        public Builder doubleQuant(boolean on) { this.doubleQuant = on; return this; }

        public QLoRAConfig build() {
            return new QLoRAConfig(lora.build(),
                    new QuantConfig(type, blocksize, doubleQuant, QuantConfig.DEFAULT_DOUBLE_QUANT_BLOCKSIZE));
        }
    }
}
