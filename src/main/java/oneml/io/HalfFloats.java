package oneml.io;

/** Conversions between float32 and the 16-bit formats (IEEE half and bfloat16) found in checkpoints. */
final class HalfFloats {
    private HalfFloats() {}

    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Round to nearest even, keeping NaN a NaN (a plain shift could turn it into infinity). */
    static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    static float f16ToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) { // inf or NaN
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            // subnormal half: value = mant * 2^-24
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** Round to nearest even; overflow becomes infinity, tiny values become (sub)normal halves or zero. */
    static short floatToF16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        if (Float.isNaN(value)) {
            return (short) (sign | 0x7e00);
        }
        float abs = Math.abs(value);
        if (abs >= 65520f) { // rounds past the largest half (65504)
            return (short) (sign | 0x7c00);
        }
        if (abs < 0x1p-14f) { // subnormal range: quantise to multiples of 2^-24
            int mant = Math.round(abs * 0x1p24f); // Math.round is half-up; ties are vanishingly rare here
            if ((abs * 0x1p24f) - Math.floor(abs * 0x1p24f) == 0.5 && (mant & 1) == 1) {
                mant -= 1;
            }
            return (short) (sign | mant);
        }
        int absBits = bits & 0x7fffffff;
        int exp = (absBits >>> 23) - 127 + 15;
        int mant = absBits & 0x7fffff;
        int half = (exp << 10) | (mant >>> 13);
        int rest = mant & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
            half += 1; // may carry into the exponent, which is the correct rounding
        }
        return (short) (sign | half);
    }
}
