package oneml.train;

import ai.djl.ndarray.NDArray;
import java.util.Collections;
import java.util.Map;
import oneml.model.CausalLM;
import oneml.model.TrainableModel;

/** Every weight of the model trains: the baseline PEFT methods are measured against, and pretraining. */
public final class FullFineTuning implements TrainableModel {
    private final CausalLM model;

    public FullFineTuning(CausalLM model) {
        this.model = model;
        model.stateDict().values().forEach(a -> a.setRequiresGradient(true));
    }

    @Override
    public CausalLM model() {
        return model;
    }

    @Override
    public Map<String, NDArray> trainableParameters() {
        return Collections.unmodifiableMap(model.stateDict());
    }

    @Override
    public void setTraining(boolean training) {
        // the models oneml builds have no dropout of their own
    }

    /** Freezes the weights again (drops their gradients) once training is over. */
    public CausalLM freeze() {
        model.stateDict().values().forEach(a -> a.setRequiresGradient(false));
        return model;
    }
}
