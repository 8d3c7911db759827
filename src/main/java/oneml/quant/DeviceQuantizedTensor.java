package oneml.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link QuantizedTensor} copied into native (DJL) arrays, to be dequantised once per forward pass.
 *
 * <p>What it holds, all under its own sub-manager of the manager given to {@link QuantizedTensor#upload}:
 * the packed codes as uint8 (0.5 byte per parameter, padded with zeros to whole blocks), the scales in their
 * stored form (fp32 absmax, or the double-quantised uint8 codes, 8-bit code table, fp32 absmax2 and offset:
 * about 1.03 byte per 64 parameters), and a 256 x 2 float table that decodes a packed byte into its two values
 * (2 KiB). Nothing per element is kept in fp32, so resident memory stays at the 4.5 / 4.127 bits per parameter
 * of the format; the fp32 weight exists only for the lifetime of the array {@link #dequantize} returns.
 *
 * <p>Dequantisation without bitwise ops (DJL has none): widen the packed bytes to int32 indices, gather rows of
 * the pair table (high nibble first, so the [bytes, 2] result flattens into element order; see
 * {@link oneml.tensor.Kernels#decodePairs}), view as
 * [blocks, blocksize], multiply by the per-block absmax broadcast over the block, drop the padding, reshape. For
 * double quantisation the absmax itself is first decoded the same way: gather the 8-bit table, multiply by
 * absmax2 per block of 256, add the offset. Every step is one float32 multiply or add per element, the same
 * operations {@link QuantizedTensor#dequantizeToArray()} does, so the two agree bit for bit.
 *
 * <p>Not safe for concurrent {@code dequantize} calls from several threads on one instance (they are serialised).
 * Close it to free the native arrays.
 */
public final class DeviceQuantizedTensor implements AutoCloseable {
    private final NDManager manager;
    private final long[] shape;
    private final long size;
    private final QuantType type;
    private final int blocksize;
    private final int blocks;
    private final NDArray packed;
    private final NDArray pairTable;
    private final NDArray absmax;
    private final NDArray absmaxCodes;
    private final NDArray code8;
    private final NDArray absmax2;
    private final float offset;
    private final int blocksize2;
    private final int blocks2;
    private final List<NDArray> resident = new ArrayList<>();
    private boolean closed;

    DeviceQuantizedTensor(QuantizedTensor q, NDManager owner) {
        this.manager = owner.newSubManager();
        this.shape = q.shape();
        this.size = q.size();
        this.type = q.type();
        this.blocksize = q.blocksize();
        this.blocks = q.blocks();
        try {
            packed = keep(uint8(padded(q.packed(), (long) blocks * blocksize / 2)));
            pairTable = keep(manager.create(type.pairTable(), new Shape(256, 2)));
            if (q.absmax() instanceof Absmax.DoubleQuantized d) {
                absmax = null;
                blocksize2 = d.blocksize();
                blocks2 = d.absmax2().length;
                offset = d.offset();
                absmaxCodes = keep(uint8(padded(d.codes(), (long) blocks2 * blocksize2)));
                code8 = keep(manager.create(d.code()));
                absmax2 = keep(manager.create(d.absmax2(), new Shape(blocks2, 1)));
            } else {
                absmax = keep(manager.create(q.absmax().dequantize(), new Shape(blocks, 1)));
                absmaxCodes = null;
                code8 = null;
                absmax2 = null;
                offset = 0f;
                blocksize2 = 0;
                blocks2 = 0;
            }
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private NDArray keep(NDArray a) {
        resident.add(a);
        return a;
    }

    private NDArray uint8(byte[] bytes) {
        return manager.create(ByteBuffer.wrap(bytes), new Shape(bytes.length), DataType.UINT8);
    }

    private static byte[] padded(byte[] bytes, long length) {
        return bytes.length == length ? bytes : java.util.Arrays.copyOf(bytes, Math.toIntExact(length));
    }

    /**
     * The dequantised float32 tensor of the original shape (e.g. [out, in]), owned by {@code out}: close it (or
     * {@code out}) when the step is done. Intermediate arrays are freed before returning; the resident arrays are
     * untouched.
     */
    public synchronized NDArray dequantize(NDManager out) {
        if (closed) {
            throw new IllegalStateException("this quantised tensor was closed");
        }
        try (NDManager scratch = out.newSubManager()) {
            // an op's result belongs to its first operand's manager: lend the resident arrays to the scratch
            // manager so every intermediate lands there and goes when it closes (they return to ours then)
            for (NDArray a : resident) {
                a.tempAttach(scratch);
            }
            NDArray pairs = oneml.tensor.Kernels.decodePairs(packed, pairTable);
            NDArray values = pairs.reshape(blocks, blocksize).mul(blockAbsmax());
            NDArray flat = values.reshape(-1);
            if ((long) blocks * blocksize != size) {
                flat = flat.get(new NDIndex("0:" + size));
            }
            NDArray result = flat.reshape(new Shape(shape));
            result.attach(out);
            return result;
        }
    }

    /** [blocks, 1] fp32 absmax, decoded from the double-quantised form when needed. */
    private NDArray blockAbsmax() {
        if (absmax != null) {
            return absmax;
        }
        NDArray decoded = code8.get(absmaxCodes.toType(DataType.INT64, false))
                .reshape(blocks2, blocksize2)
                .mul(absmax2)
                .add(offset)
                .reshape(-1);
        if ((long) blocks2 * blocksize2 != blocks) {
            decoded = decoded.get(new NDIndex("0:" + blocks));
        }
        return decoded.reshape(blocks, 1);
    }

    /**
     * The heap form again, read back from the native arrays (padding dropped): bit for bit the tensor that was
     * uploaded, for saving a 4-bit model without keeping a heap copy of every weight while it runs.
     */
    public synchronized QuantizedTensor download() {
        if (closed) {
            throw new IllegalStateException("this quantised tensor was closed");
        }
        byte[] codes = java.util.Arrays.copyOf(packed.toByteArray(), Math.toIntExact((size + 1) / 2));
        Absmax scales;
        if (absmax != null) {
            scales = new Absmax.Plain(absmax.toFloatArray());
        } else {
            byte[] absmaxCodes8 = java.util.Arrays.copyOf(absmaxCodes.toByteArray(), blocks);
            scales = new Absmax.DoubleQuantized(absmaxCodes8, code8.toFloatArray(), absmax2.toFloatArray(), offset, blocksize2);
        }
        return new QuantizedTensor(shape.clone(), type, blocksize, codes, scales);
    }

    /** A copy of the original shape. */
    public long[] shape() {
        return shape.clone();
    }

    public QuantType type() {
        return type;
    }

    /** Native bytes held (codes, scales, lookup tables). */
    public long residentBytes() {
        long bytes = 0;
        for (NDArray a : resident) {
            bytes += a.getShape().size() * a.getDataType().getNumOfBytes();
        }
        return bytes;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            manager.close();
        }
    }

    @Override
    public String toString() {
        return "DeviceQuantizedTensor[" + type + ", shape=" + java.util.Arrays.toString(shape) + ", blocksize="
                + blocksize + (absmax2 != null ? ", double-quant" : "") + ", " + residentBytes() + " native bytes]";
    }
}
