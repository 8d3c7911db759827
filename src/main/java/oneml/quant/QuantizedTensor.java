package oneml.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.Objects;

/**
 * A 4-bit blockwise-quantised tensor in bitsandbytes' layout, immutable, held in Java arrays: the canonical copy
 * to save, load, inspect and measure (about 0.5 byte per parameter plus the scales).
 *
 * <p>For use in a forward pass, {@link #upload(NDManager)} copies it once into native arrays
 * ({@link DeviceQuantizedTensor}) whose {@code dequantize} is fast; after that this object can be dropped if the
 * heap copy is not needed. {@link #dequantize(NDManager)} here is the one-off convenience: it uploads, dequantises
 * and frees the upload on every call.
 *
 * <p>Layout: {@link #packed()} holds ceil(n/2) bytes, element 2j in the high nibble and 2j+1 in the low nibble of
 * byte j (row-major flattening; an odd length has a pad nibble). Block b covers elements
 * [b*blocksize, min(n, (b+1)*blocksize)) and is scaled by {@code absmax().dequantize()[b]}.
 */
public final class QuantizedTensor {
    private final long[] shape;
    private final QuantType type;
    private final int blocksize;
    private final byte[] packed;
    private final Absmax absmax;

    /** Takes ownership of the arrays (callers inside the package pass fresh ones). */
    QuantizedTensor(long[] shape, QuantType type, int blocksize, byte[] packed, Absmax absmax) {
        this.shape = shape;
        this.type = type;
        this.blocksize = blocksize;
        this.packed = packed;
        this.absmax = absmax;
    }

    /**
     * Assembles a tensor from its parts, checking that they fit together; the arrays are copied. From a
     * bitsandbytes checkpoint these are {@code weight} (the packed bytes), {@code absmax} (fp32, or uint8 codes
     * with double quantisation), {@code nested_absmax}, {@code nested_quant_map}, and shape, blocksize,
     * {@code nested_blocksize} and {@code nested_offset} from the packed {@code quant_state.bitsandbytes__nf4}.
     */
    public static QuantizedTensor of(long[] shape, QuantType type, int blocksize, byte[] packed, Absmax absmax) {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(packed, "packed");
        Objects.requireNonNull(absmax, "absmax");
        new QuantConfig(type, blocksize, false, QuantConfig.DEFAULT_DOUBLE_QUANT_BLOCKSIZE); // validates blocksize
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        Quantizer.checkShape(n, shape);
        if (packed.length != (n + 1) / 2) {
            throw new IllegalArgumentException(
                    n + " values need " + (n + 1) / 2 + " packed bytes, got " + packed.length);
        }
        long blocks = (n + blocksize - 1) / blocksize;
        if (absmax.blocks() != blocks) {
            throw new IllegalArgumentException(
                    n + " values in blocks of " + blocksize + " need " + blocks + " absmax values, got " + absmax.blocks());
        }
        return new QuantizedTensor(shape.clone(), type, blocksize, packed.clone(), absmax);
    }

    /** A copy of the original shape, e.g. [out, in]. */
    public long[] shape() {
        return shape.clone();
    }

    /** The number of quantised elements (the product of the shape). */
    public long size() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public QuantType type() {
        return type;
    }

    public int blocksize() {
        return blocksize;
    }

    /** The number of 4-bit blocks. */
    public int blocks() {
        return absmax.blocks();
    }

    /** A copy of the packed codes. */
    public byte[] packed() {
        return packed.clone();
    }

    /** The per-block scales, plain or double-quantised. */
    public Absmax absmax() {
        return absmax;
    }

    /** The config this tensor is stored in (type, block size, double quantisation and its block size). */
    public QuantConfig config() {
        return absmax instanceof Absmax.DoubleQuantized d
                ? new QuantConfig(type, blocksize, true, d.blocksize())
                : new QuantConfig(type, blocksize, false, QuantConfig.DEFAULT_DOUBLE_QUANT_BLOCKSIZE);
    }

    public boolean doubleQuantized() {
        return absmax instanceof Absmax.DoubleQuantized;
    }

    /** The 4-bit index of element {@code i} (flat, row-major). */
    public int codeIndex(long i) {
        int b = packed[(int) (i >>> 1)] & 0xFF;
        return (i & 1) == 0 ? b >>> 4 : b & 0x0F;
    }

    /** The dequantised values, flat row-major: {@code code[index] * absmax[block]} in float32. */
    public float[] dequantizeToArray() {
        int n = (int) size();
        float[] scale = absmax.dequantize();
        float[] code = type.codebook();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = code[codeIndex(i)] * scale[i / blocksize];
        }
        return out;
    }

    /**
     * The dequantised tensor as a float32 NDArray of the original shape, owned by {@code manager}. Uploads the
     * codes each call; in a forward pass use {@link #upload(NDManager)} once and dequantise from that.
     */
    public NDArray dequantize(NDManager manager) {
        try (DeviceQuantizedTensor device = upload(manager)) {
            return device.dequantize(manager);
        }
    }

    /** Copies the codes and scales into native arrays under a sub-manager of {@code owner}. */
    public DeviceQuantizedTensor upload(NDManager owner) {
        return new DeviceQuantizedTensor(this, owner);
    }

    /** Bytes this tensor takes in bitsandbytes' storage: packed codes plus the scales. */
    public long storageBytes() {
        return packed.length + absmax.storageBytes();
    }

    /** Storage bits per quantised parameter: about 4.5 plain, about 4.127 double-quantised, for large tensors. */
    public double bitsPerParameter() {
        return 8.0 * storageBytes() / size();
    }

    /** Error of the dequantised values against the original (same length, row-major). */
    public QuantError error(float[] original) {
        return QuantError.between(original, dequantizeToArray());
    }

    public double meanAbsError(float[] original) {
        return error(original).meanAbs();
    }

    public double maxAbsError(float[] original) {
        return error(original).maxAbs();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizedTensor q
                && type == q.type
                && blocksize == q.blocksize
                && Arrays.equals(shape, q.shape)
                && Arrays.equals(packed, q.packed)
                && absmax.equals(q.absmax);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, blocksize, Arrays.hashCode(shape), Arrays.hashCode(packed), absmax);
    }

    @Override
    public String toString() {
        String scales = absmax instanceof Absmax.DoubleQuantized d
                ? "double-quant absmax (uint8, blocks of " + d.blocksize() + ")"
                : "fp32 absmax";
        return String.format(java.util.Locale.ROOT, "QuantizedTensor[%s, shape=%s, blocksize=%d, %d blocks, %s, %,d bytes, %.3f bits/param]",
                type, Arrays.toString(shape), blocksize, blocks(), scales, storageBytes(), bitsPerParameter());
    }
}
