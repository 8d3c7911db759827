package oneml.peft;

import ai.djl.ndarray.NDArray;
import com.google.gson.JsonObject;
import java.util.Map;
import oneml.PeftConfig;

/**
 * One named adapter attached to a base model by some PEFT method. The {@link PeftModel} switches adapters
 * on and off, merges them, saves them; each method's package implements this for its own layers.
 */
public interface Adapter {
    String name();

    PeftConfig config();

    /** Trainable arrays by their Hugging Face PEFT file key (adapter name stripped). */
    Map<String, NDArray> parameters();

    /**
     * The tensors adapter_model.safetensors holds, by PEFT file key: the parameters themselves, except for a
     * method whose file stores values computed from them (prefix tuning with a projection saves the MLP's
     * output), which computes them in {@code scratch}.
     */
    default Map<String, NDArray> savedTensors(ai.djl.ndarray.NDManager scratch) {
        return parameters();
    }

    /** Module paths the adapter touches, for summaries and errors. */
    java.util.List<String> targets();

    /** Whether the adapter takes part in the forward pass. */
    void setEnabled(boolean enabled);

    void setTraining(boolean training);

    /** Folds the adapter into the base weights, so the forward pass costs what the base's does. */
    void merge();

    void unmerge();

    boolean isMerged();

    /**
     * Detaches the adapter after {@link #merge()}, first writing any fully trained module copies
     * (modules_to_save) into the base when {@code mergeSavedModules} is true.
     */
    default void unload(boolean mergeSavedModules) {
        remove();
    }

    /** Detaches the adapter from the model and frees its arrays. */
    void remove();

    /** The body of adapter_config.json (peft_type, task_type and the method's fields). */
    JsonObject toAdapterConfig();
}
