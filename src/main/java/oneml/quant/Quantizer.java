package oneml.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.Objects;

/**
 * Blockwise 4-bit quantisation as bitsandbytes' {@code quantize_4bit} does it (CUDA kernel
 * {@code kQuantizeBlockwise}), in plain Java.
 *
 * <p>The weight is flattened row-major and cut into blocks of {@code blocksize} (the last may be shorter). For
 * each block: {@code absmax = max |x|} in fp32; {@code r = 1.0f / absmax}; each x becomes the 4-bit index that
 * {@link QuantType} picks for the float32 product {@code x * r} (a multiply by the reciprocal, not a division,
 * as in the kernel). Two indices per byte: element 2j in the HIGH nibble, 2j+1 in the LOW nibble. An odd length
 * gets one pad element of value 0.0 in the last block, quantised like any other (the kernel loads missing
 * elements as 0): its nibble is 7 for NF4 and 0 for FP4. A block of zeros has r = inf and 0 * inf = NaN, which the
 * kernels map to index 0; it decodes to code[0] * 0 = -0.0 (NF4) or 0.0 (FP4).
 *
 * <p>Double quantisation then stores the absmax vector as bitsandbytes' {@code quantize_blockwise(absmax -
 * mean(absmax), blocksize=256)} does: {@code offset = mean(absmax)}; {@code c = absmax - offset} (float32); per
 * block of 256 c's an fp32 {@code absmax2}; each c becomes an 8-bit index into the signed dynamic map via
 * {@code dQuantize(c * (1/absmax2))}.
 *
 * <p>Known last-bit differences from a bitsandbytes GPU run, none of which changes the format: its CUDA build
 * uses {@code --use_fast_math}, so its {@code 1/absmax} is an approximate reciprocal (at most an ulp or so off),
 * where this class uses the correctly rounded one; an element within about an ulp of a decision threshold can
 * then land on the neighbouring code. torch's float32 {@code mean} sums in its own order; here the mean of the
 * absmax values is taken in double and rounded once.
 */
public final class Quantizer {
    private Quantizer() {}

    /**
     * Quantises {@code values}, the row-major contents of a tensor of {@code shape} (e.g. a Linear weight
     * [out, in]).
     *
     * @throws IllegalArgumentException if the shape does not match the length, the tensor is empty, or a value is
     *     NaN or infinite
     */
    public static QuantizedTensor quantize(float[] values, long[] shape, QuantConfig config) {
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(config, "config");
        checkShape(values.length, shape);
        checkFinite(values, shape);

        int n = values.length;
        int blocksize = config.blocksize();
        int blocks = (int) ((n + (long) blocksize - 1) / blocksize);
        float[] absmax = new float[blocks];
        byte[] packed = new byte[(n + 1) / 2];
        QuantType type = config.type();
        for (int b = 0; b < blocks; b++) {
            int start = b * blocksize;
            int end = Math.min(n, start + blocksize);
            float max = 0f;
            for (int i = start; i < end; i++) {
                max = Math.max(max, Math.abs(values[i]));
            }
            absmax[b] = max;
            float reciprocal = 1.0f / max;
            for (int i = start; i < end; i++) {
                setNibble(packed, i, type.quantizeNormalized(values[i] * reciprocal));
            }
            if (end == n && n % 2 == 1) {
                // the pad element: value 0.0 in the last block
                setNibble(packed, n, type.quantizeNormalized(0f * reciprocal));
            }
        }
        Absmax scales = config.doubleQuant()
                ? doubleQuantize(absmax, config.doubleQuantBlocksize())
                : new Absmax.Plain(absmax);
        return new QuantizedTensor(shape.clone(), type, blocksize, packed, scales);
    }

    /**
     * Quantises a float weight held by DJL (FLOAT32, or FLOAT16/FLOAT64 widened/narrowed to float32 first). The
     * array is read, not changed or closed.
     */
    public static QuantizedTensor quantize(NDArray weight, QuantConfig config) {
        Objects.requireNonNull(weight, "weight");
        DataType type = weight.getDataType();
        float[] values;
        if (type == DataType.FLOAT32) {
            values = weight.toFloatArray();
        } else if (type == DataType.FLOAT16 || type == DataType.FLOAT64) {
            try (NDArray widened = weight.toType(DataType.FLOAT32, true)) {
                values = widened.toFloatArray();
            }
        } else {
            // BF16 arrays crash the JVM in DJL's PyTorch engine: they must be widened in Java when loaded
            throw new IllegalArgumentException("can only quantise float32/float16/float64 arrays, got " + type);
        }
        return quantize(values, weight.getShape().getShape(), config);
    }

    /** Double quantisation of the absmax vector; see the class comment. */
    static Absmax.DoubleQuantized doubleQuantize(float[] absmax, int blocksize2) {
        double sum = 0;
        for (float a : absmax) {
            sum += a;
        }
        float offset = (float) (sum / absmax.length);
        float[] code = DynamicMap.signed();
        int blocks2 = (absmax.length + blocksize2 - 1) / blocksize2;
        float[] absmax2 = new float[blocks2];
        byte[] codes = new byte[absmax.length];
        for (int b = 0; b < blocks2; b++) {
            int start = b * blocksize2;
            int end = Math.min(absmax.length, start + blocksize2);
            float max = 0f;
            for (int i = start; i < end; i++) {
                max = Math.max(max, Math.abs(absmax[i] - offset));
            }
            absmax2[b] = max;
            float reciprocal = 1.0f / max;
            for (int i = start; i < end; i++) {
                codes[i] = (byte) DynamicMap.quantize(code, (absmax[i] - offset) * reciprocal);
            }
        }
        return new Absmax.DoubleQuantized(codes, code, absmax2, offset, blocksize2);
    }

    private static void setNibble(byte[] packed, int element, int index) {
        int j = element >>> 1;
        if ((element & 1) == 0) {
            packed[j] = (byte) ((packed[j] & 0x0F) | (index << 4));
        } else {
            packed[j] = (byte) ((packed[j] & 0xF0) | index);
        }
    }

    static void checkShape(long length, long[] shape) {
        long product = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            product *= d;
        }
        if (product != length) {
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(shape) + " holds " + product + " values, got " + length);
        }
        if (length == 0) {
            throw new IllegalArgumentException("cannot quantise an empty tensor, shape " + Arrays.toString(shape));
        }
    }

    private static void checkFinite(float[] values, long[] shape) {
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            if (Float.isNaN(v) || Float.isInfinite(v)) {
                throw new IllegalArgumentException("cannot quantise a weight that is " + (Float.isNaN(v) ? "NaN" : v)
                        + ": element " + i + " " + Arrays.toString(unravel(i, shape)) + " of shape "
                        + Arrays.toString(shape));
            }
        }
    }

    /** Row-major multi-index of a flat position. */
    private static long[] unravel(long flat, long[] shape) {
        long[] index = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return index;
    }
}
