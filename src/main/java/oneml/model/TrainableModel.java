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

    /**
     * Float32 bytes of a 4-bit base's linear weights from which the trainer checkpoints on its own. Below it
     * the dequantised weights autograd keeps for backward (at most this much) are small next to the
     * activations, and recomputing every block would cost a third more time for no memory worth having.
     */
    long CHECKPOINT_QUANTIZED_BYTES = 64L << 20;

    /**
     * A 4-bit base only saves memory if blocks are recomputed in backward (otherwise every dequantised
     * weight stays alive until backward); the trainer then checkpoints, when the weights are big enough for
     * that to matter ({@link #CHECKPOINT_QUANTIZED_BYTES}).
     */
    default boolean needsGradientCheckpointing() {
        CausalLM lm = model();
        return lm.isQuantized() && lm.quantization().parameters() * 4 >= CHECKPOINT_QUANTIZED_BYTES;
    }

    /**
     * Bytes the model holds as it trains, counted: the base's arrays as held ({@link CausalLM#residentBytes}) and
     * the method's own trainable arrays (those that are not the base's: full fine-tuning adds none).
     */
    default long residentBytes() {
        CausalLM lm = model();
        java.util.Set<NDArray> base = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        base.addAll(lm.stateDict().values());
        long bytes = lm.residentBytes();
        for (NDArray a : trainableParameters().values()) {
            if (!base.contains(a)) {
                bytes += a.size() * a.getDataType().getNumOfBytes();
            }
        }
        return bytes;
    }

    default long trainableParameterCount() {
        long n = 0;
        for (NDArray a : trainableParameters().values()) {
            n += a.size();
        }
        return n;
    }
}
