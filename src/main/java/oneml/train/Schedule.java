package oneml.train;

/** Learning-rate schedules as in transformers: linear warmup from 0, then constant, linear or cosine decay to 0. */
public enum Schedule {
    CONSTANT, LINEAR, COSINE;

    /** The rate at optimiser step {@code step} (0-based) of {@code total}, after {@code warmup} warmup steps. */
    public double rate(double peak, int step, int warmup, int total) {
        if (step < warmup) {
            return peak * (step + 1) / warmup;
        }
        if (this == CONSTANT || total <= warmup) {
            return peak;
        }
        double progress = (double) (step - warmup) / Math.max(1, total - warmup);
        if (this == LINEAR) {
            return peak * Math.max(0.0, 1.0 - progress);
        }
        return peak * 0.5 * (1.0 + Math.cos(Math.PI * progress));
    }
}
