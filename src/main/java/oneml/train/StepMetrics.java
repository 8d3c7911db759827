package oneml.train;

/** What one optimiser step measured. */
public record StepMetrics(int step, int totalSteps, double loss, double learningRate, double gradNorm, double tokensPerSecond,
        double elapsedSeconds) {}
