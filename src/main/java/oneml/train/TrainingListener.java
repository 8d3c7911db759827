package oneml.train;

/**
 * How a training loop reports progress: the loop itself never prints. Terminal progress bars, notebook
 * displays and live charts are listeners.
 */
public interface TrainingListener {
    default void onStart(int totalSteps, TrainConfig config, long trainableParameters) {}

    /** What this run is, for displays that show several runs (a comparison's method); called before {@link #onStart}, if at all. */
    default void onRunName(String name) {}

    default void onStep(StepMetrics step) {}

    default void onEvaluation(EvalMetrics evaluation) {}

    /** Something the person running the training should read (e.g. which checkpoint a resumed run continues from). */
    default void onNote(String note) {}

    default void onEnd(TrainingRun run) {}
}
