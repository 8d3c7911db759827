package oneml.model;

import ai.djl.ndarray.NDArray;

/**
 * Anything that stands where a linear projection stands in the model: the frozen base {@link Linear}, or
 * a PEFT wrapper around it (LoRA, DoRA, IA3, a quantised base). This is the extension point through
 * which weight-based PEFT methods touch the model.
 */
public interface LinearLayer {
    /** [..., in] to [..., out]. */
    NDArray forward(NDArray x);

    long inFeatures();

    long outFeatures();

    /** The frozen base projection at the bottom of any stack of wrappers. */
    Linear base();
}
