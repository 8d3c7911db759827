package oneml.quant;

/**
 * How far a dequantised tensor lies from the original.
 *
 * @param meanAbs mean of |original - dequantised|
 * @param maxAbs largest |original - dequantised|
 * @param rms root mean square of the difference
 * @param count number of elements compared
 */
public record QuantError(double meanAbs, double maxAbs, double rms, long count) {

    /** Compares two arrays of the same length element by element. */
    public static QuantError between(float[] original, float[] dequantized) {
        if (original.length != dequantized.length) {
            throw new IllegalArgumentException("cannot compare " + original.length + " values with " + dequantized.length);
        }
        double sum = 0;
        double sumSq = 0;
        double max = 0;
        for (int i = 0; i < original.length; i++) {
            double d = Math.abs((double) original[i] - dequantized[i]);
            sum += d;
            sumSq += d * d;
            max = Math.max(max, d);
        }
        int n = Math.max(1, original.length);
        return new QuantError(sum / n, max, Math.sqrt(sumSq / n), original.length);
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "QuantError[mean |e|=%.3g, max |e|=%.3g, rms=%.3g, n=%d]", meanAbs, maxAbs, rms, count);
    }
}
