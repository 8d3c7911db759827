package oneml.quant;

import java.util.Arrays;

/**
 * bitsandbytes' signed "dynamic" 8-bit code ({@code create_dynamic_map(signed=True, max_exponent_bits=7,
 * total_bits=8)}), the data type that double quantisation stores the centred block absmax values in, and its
 * quantiser ({@code dQuantize<0>} in {@code csrc/kernels.cu}).
 *
 * <p>The map: for exponent level i = 0..6, {@code torch.linspace(0.1, 1, 2^i + 1)} boundaries, the means of
 * neighbouring boundaries, scaled by {@code 10^(i-6)}, both signs; then 0 and 1.0; sorted. 127 negative values
 * (index 0 = -0.99296875), 0 at index 127, 127 positive values, and 1.0 at index 255.
 *
 * <p>It is built here with the float32 arithmetic torch uses, so the table equals the one bitsandbytes builds
 * with torch 2.x on x86: {@code linspace} computes {@code start + step*k} for the first half and
 * {@code end - step*(n-1-k)} for the second, and libtorch's x86 build contracts both into a fused multiply-add
 * (checked bit for bit against libtorch 2.7.1 in the tests); the mean and the scaling are float32 operations
 * with the Python scalar rounded to float32 first. Other torch builds (older vectorised linspace, other
 * compilers) can differ in the last bit of a few entries; that is why {@link Absmax.DoubleQuantized} carries the
 * table it was quantised with, as bitsandbytes' saved state does ({@code nested_quant_map}).
 */
final class DynamicMap {
    private static final float[] SIGNED = buildSigned();

    private DynamicMap() {}

    /** A copy of the 256-entry signed dynamic map, ascending. */
    static float[] signed() {
        return SIGNED.clone();
    }

    private static float[] buildSigned() {
        // 10 ** (-(max_exponent_bits - 1) + i) as Python evaluates it, then rounded to float32 by torch's mul
        double[] scales = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
        float[] data = new float[256];
        int count = 0;
        for (int i = 0; i < 7; i++) {
            float[] boundaries = linspace(0.1f, 1f, (1 << i) + 1);
            float scale = (float) scales[i];
            for (int k = 0; k + 1 < boundaries.length; k++) {
                float mean = (boundaries[k] + boundaries[k + 1]) / 2.0f;
                data[count++] = scale * mean;
                data[count++] = -scale * mean;
            }
        }
        data[count++] = 0f;
        data[count++] = 1.0f;
        if (count != 256) {
            throw new AssertionError("dynamic map has " + count + " entries");
        }
        Arrays.sort(data);
        return data;
    }

    /** torch.linspace in float32 as libtorch's CPU kernel computes it (symmetric halves, fused multiply-add). */
    static float[] linspace(float start, float end, int steps) {
        float step = (end - start) / (float) (steps - 1);
        int halfway = steps / 2;
        float[] out = new float[steps];
        for (int k = 0; k < steps; k++) {
            out[k] = k < halfway ? Math.fma(step, (float) k, start) : Math.fma(-step, (float) (steps - k - 1), end);
        }
        return out;
    }

    /**
     * The 8-bit index of a normalised value x in {@code code} (256 ascending values), a line-by-line port of
     * bitsandbytes' non-stochastic {@code dQuantize}: a 7-step binary search from the middle, then the nearer of
     * the last probed value and its neighbour on x's side, using float32 midpoints. At an exact midpoint it keeps
     * the last probed value.
     */
    static int quantize(float[] code, float x) {
        int pivot = 127;
        int upperPivot = 255;
        int lowerPivot = 0;
        float lower = -1.0f;
        float upper = 1.0f;
        float val = code[pivot];
        for (int i = 64; i > 0; i >>= 1) {
            if (x > val) {
                lowerPivot = pivot;
                lower = val;
                pivot += i;
            } else {
                upperPivot = pivot;
                upper = val;
                pivot -= i;
            }
            val = code[pivot];
        }
        if (upperPivot == 255) {
            upper = code[upperPivot];
        }
        if (lowerPivot == 0) {
            lower = code[lowerPivot];
        }
        if (x > val) {
            float midpoint = (upper + val) * 0.5f;
            return x > midpoint ? upperPivot : pivot;
        }
        float midpoint = (lower + val) * 0.5f;
        return x < midpoint ? lowerPivot : pivot;
    }
}
