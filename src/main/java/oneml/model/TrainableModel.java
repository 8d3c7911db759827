package oneml.model;

import ai.djl.ndarray.NDArray;
import java.util.Map;

/**
 * What a training loop needs from a model: the network to run, the arrays it may change, and a switch
 * for training-only behaviour such as dropout. A PEFT model and a full fine-tuning run both provide it.
 */
public interface TrainableModel {
    CausalLM model();

    /** The arrays the optimiser updates, by a stable name (for an adapter: its PEFT file key). */
    Map<String, NDArray> trainableParameters();

    /** Training mode turns dropout on; evaluation mode turns it off. */
    void setTraining(boolean training);

    /** A 4-bit base only saves memory if blocks are recomputed in backward; the trainer then checkpoints. */
    default boolean needsGradientCheckpointing() {
        return model().isQuantized();
    }

    default long trainableParameterCount() {
        long n = 0;
        for (NDArray a : trainableParameters().values()) {
            n += a.size();
        }
        return n;
    }
}
