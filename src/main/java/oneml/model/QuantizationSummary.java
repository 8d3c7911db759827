package oneml.model;

import java.util.Locale;
import oneml.quant.QuantConfig;

/**
 * What quantising a model's linear weights did: how many parameters, how many bytes they now take, bits
 * per parameter (about 4.127 for NF4 with double quantisation), and the dequantisation error (NaN for a model
 * whose weights were read in 4 bits: there was no float32 weight to compare with).
 */
public record QuantizationSummary(QuantConfig config, long parameters, long bytes, double meanAbsError, double maxAbsError) {
    public double bitsPerParameter() {
        return parameters == 0 ? 0 : 8.0 * bytes / parameters;
    }

    @Override
    public String toString() {
        if (Double.isNaN(meanAbsError)) { // loaded in 4 bits: there was never a float32 weight to compare with
            return String.format(Locale.ROOT, "%s%s blocks of %d: %,d linear weights in %,d bytes (%.3f bits/param), loaded pre-quantised",
                    config.type(), config.doubleQuant() ? " + double quant," : ",", config.blocksize(), parameters, bytes,
                    bitsPerParameter());
        }
        return String.format(Locale.ROOT, "%s%s blocks of %d: %,d linear weights in %,d bytes (%.3f bits/param), mean |error| %.2e, max %.2e",
                config.type(), config.doubleQuant() ? " + double quant," : ",", config.blocksize(), parameters, bytes,
                bitsPerParameter(), meanAbsError, maxAbsError);
    }
}
