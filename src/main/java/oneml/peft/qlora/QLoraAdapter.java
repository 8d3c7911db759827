package oneml.peft.qlora;

import ai.djl.ndarray.NDArray;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Map;
import oneml.QLoRAConfig;
import oneml.model.CausalLM;
import oneml.peft.Adapter;
import oneml.peft.lora.LoraAdapter;

/**
 * QLoRA = quantise the frozen base to 4 bits (once per model), then attach a LoRA adapter. Everything an
 * adapter does is LoRA's; this class only remembers that the base was quantised for it.
 */
public final class QLoraAdapter implements Adapter {
    private final QLoRAConfig config;
    private final LoraAdapter lora;

    private QLoraAdapter(QLoRAConfig config, LoraAdapter lora) {
        this.config = config;
        this.lora = lora;
    }

    public static QLoraAdapter attach(CausalLM model, String name, QLoRAConfig config, long seed) {
        if (!model.isQuantized()) {
            model.quantize(config.quant());
        } else if (!model.quantization().config().equals(config.quant())) {
            throw new IllegalArgumentException("the base is quantised already as " + model.quantization().config()
                    + "; a QLoRA adapter asking for " + config.quant() + " cannot share it");
        }
        return new QLoraAdapter(config, LoraAdapter.attach(model, name, config.lora(), seed));
    }

    @Override public String name() { return lora.name(); }
    @Override public QLoRAConfig config() { return config; }
    @Override public Map<String, NDArray> parameters() { return lora.parameters(); }
    @Override public List<String> targets() { return lora.targets(); }
    @Override public void setEnabled(boolean enabled) { lora.setEnabled(enabled); }
    @Override public void setTraining(boolean training) { lora.setTraining(training); }
    @Override public void merge() { lora.merge(); }
    @Override public void unmerge() { lora.unmerge(); }
    @Override public boolean isMerged() { return lora.isMerged(); }
    @Override public void unload(boolean mergeSavedModules) { lora.unload(mergeSavedModules); }
    @Override public void remove() { lora.remove(); }

    /** PEFT records QLoRA adapters as plain LORA adapters; the quantisation belongs to the base. */
    @Override
    public JsonObject toAdapterConfig() {
        return lora.toAdapterConfig();
    }

    @Override
    public String toString() {
        return "QLoraAdapter(" + name() + ", " + config + ")";
    }
}
