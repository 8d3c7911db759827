package oneml.quant;

import java.util.Arrays;
import java.util.Objects;

/**
 * The per-block scales of a 4-bit tensor: either the fp32 absmax of every block, or (double quantisation) those
 * values minus their mean, quantised to 8 bits with bitsandbytes' signed dynamic map in blocks of their own.
 * Either way {@link #dequantize()} gives the fp32 absmax that dequantisation multiplies the codes by.
 */
public sealed interface Absmax permits Absmax.Plain, Absmax.DoubleQuantized {

    /** The number of 4-bit blocks these scales cover. */
    int blocks();

    /** The fp32 absmax of each 4-bit block, as dequantisation uses it. */
    float[] dequantize();

    /** Bytes of per-tensor storage (the shared 8-bit code table is not counted, as bitsandbytes' 4.127 does not). */
    long storageBytes();

    /** Plain fp32 absmax per block (bitsandbytes without {@code compress_statistics}). */
    record Plain(float[] values) implements Absmax {
        public Plain {
            Objects.requireNonNull(values, "values");
            values = values.clone();
        }

        /** A copy. */
        @Override
        public float[] values() {
            return values.clone();
        }

        @Override
        public int blocks() {
            return values.length;
        }

        @Override
        public float[] dequantize() {
            return values.clone();
        }

        @Override
        public long storageBytes() {
            return 4L * values.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Plain p && Arrays.equals(values, p.values);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return "Absmax.Plain[" + values.length + " x fp32]";
        }
    }

    /**
     * Double-quantised absmax: {@code absmax[i] = code[codes[i]] * absmax2[i / blocksize] + offset}, computed
     * as two float32 operations (a multiply, then an add), as bitsandbytes does.
     *
     * @param codes one 8-bit index per 4-bit block (unsigned)
     * @param code the 256-entry 8-bit code table the indices refer to (bitsandbytes' signed dynamic map)
     * @param absmax2 the fp32 absmax of each block of {@code blocksize} centred values
     * @param offset the mean of the original absmax values, subtracted before quantising
     * @param blocksize centred absmax values per 8-bit block (256 in bitsandbytes)
     */
    record DoubleQuantized(byte[] codes, float[] code, float[] absmax2, float offset, int blocksize)
            implements Absmax {
        public DoubleQuantized {
            Objects.requireNonNull(codes, "codes");
            Objects.requireNonNull(code, "code");
            Objects.requireNonNull(absmax2, "absmax2");
            if (code.length != 256) {
                throw new IllegalArgumentException("the 8-bit code table needs 256 values, got " + code.length);
            }
            if (blocksize <= 0) {
                throw new IllegalArgumentException("double-quant blocksize must be positive, got " + blocksize);
            }
            long expected = (codes.length + (long) blocksize - 1) / blocksize;
            if (absmax2.length != expected) {
                throw new IllegalArgumentException("absmax2 needs " + expected + " values for " + codes.length
                        + " codes in blocks of " + blocksize + ", got " + absmax2.length);
            }
            codes = codes.clone();
            code = code.clone();
            absmax2 = absmax2.clone();
        }

        /** A copy. */
        @Override
        public byte[] codes() {
            return codes.clone();
        }

        /** A copy. */
        @Override
        public float[] code() {
            return code.clone();
        }

        /** A copy. */
        @Override
        public float[] absmax2() {
            return absmax2.clone();
        }

        @Override
        public int blocks() {
            return codes.length;
        }

        @Override
        public float[] dequantize() {
            float[] out = new float[codes.length];
            for (int i = 0; i < codes.length; i++) {
                out[i] = code[codes[i] & 0xFF] * absmax2[i / blocksize] + offset;
            }
            return out;
        }

        @Override
        public long storageBytes() {
            // uint8 per block + fp32 per 8-bit block + the fp32 offset
            return codes.length + 4L * absmax2.length + 4;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof DoubleQuantized d
                    && blocksize == d.blocksize
                    && Float.floatToIntBits(offset) == Float.floatToIntBits(d.offset)
                    && Arrays.equals(codes, d.codes)
                    && Arrays.equals(code, d.code)
                    && Arrays.equals(absmax2, d.absmax2);
        }

        @Override
        public int hashCode() {
            return Objects.hash(Arrays.hashCode(codes), Arrays.hashCode(absmax2), offset, blocksize);
        }

        @Override
        public String toString() {
            return "Absmax.DoubleQuantized[" + codes.length + " x uint8, " + absmax2.length + " x fp32 absmax2 (blocks of "
                    + blocksize + "), offset=" + offset + "]";
        }
    }
}
