package oneml.train;

/** Why a training run ended. */
public enum StopReason {
    /** Ran every planned step. */
    COMPLETED,
    /** Validation loss stopped improving for the configured patience. */
    EARLY_STOPPED,
    /** The loss or the gradient became NaN or infinite; the best values were kept. */
    DIVERGED,
    /** The thread was interrupted (a notebook's stop button); stopped after the current step. */
    INTERRUPTED
}
