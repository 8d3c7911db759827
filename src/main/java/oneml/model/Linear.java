package oneml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import oneml.quant.DeviceQuantizedTensor;
import oneml.quant.QuantConfig;
import oneml.quant.QuantizedTensor;
import oneml.quant.Quantizer;

/**
 * A projection {@code y = x W^T + b} whose weight is stored [out, in], as in PyTorch's nn.Linear.
 * GPT-2's Conv1D weights ([in, out] on disk) are transposed once at load and back at save.
 *
 * <p>The weight is either a dense float32 array or, after {@link #quantize}, 4-bit codes (QLoRA's frozen
 * base) that each forward pass dequantises into the step's manager, so the float32 copy lives only as long
 * as the step needs it.
 */
public final class Linear implements LinearLayer {
    private final String path;
    private final long in;
    private final long out;
    private NDArray weight;
    private DeviceQuantizedTensor quantized;
    private QuantConfig quantConfig;
    private long quantizedBytes;
    private NDManager quantizedOwner;
    private final NDArray bias;

    Linear(String path, NDArray weight, NDArray bias) {
        this.path = path;
        this.weight = weight;
        this.bias = bias;
        this.out = weight.getShape().get(0);
        this.in = weight.getShape().get(1);
    }

    /** A projection whose weight arrives in 4 bits (a bitsandbytes checkpoint): no float32 copy is ever made. */
    Linear(String path, QuantizedTensor codes, NDArray bias, NDManager owner) {
        long[] shape = codes.shape();
        if (shape.length != 2) {
            throw new IllegalArgumentException(path + ": a 4-bit linear weight needs shape [out, in], got " + java.util.Arrays.toString(shape));
        }
        this.path = path;
        this.bias = bias;
        this.out = shape[0];
        this.in = shape[1];
        quantConfig = codes.config();
        quantizedBytes = codes.storageBytes();
        quantizedOwner = owner;
        quantized = codes.upload(owner);
    }

    @Override
    public NDArray forward(NDArray x) {
        if (quantized == null) {
            return ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
        }
        // the dequantised copy is released as soon as libtorch is done with it (at once without autograd,
        // after this block's backward with it): holding all of them until the step ends would undo QLoRA
        try (NDManager scope = x.getManager().newSubManager()) {
            return ai.djl.nn.core.Linear.linear(x, quantized.dequantize(scope), bias).singletonOrThrow();
        }
    }

    /** The module's dotted Hugging Face path, e.g. {@code model.layers.0.self_attn.q_proj}. */
    public String path() {
        return path;
    }

    /** The dense weight array; a quantised weight has none (use {@link #weight(NDManager)}). */
    public NDArray weight() {
        if (weight == null) {
            throw new IllegalStateException(path + " is quantised; ask for weight(manager) to get a dequantised copy");
        }
        return weight;
    }

    /** The weight as float32 [out, in]: the dense array itself, or a dequantised copy owned by {@code scope}. */
    public NDArray weight(NDManager scope) {
        return weight != null ? weight : quantized.dequantize(scope);
    }

    public boolean isQuantized() {
        return quantized != null;
    }

    /** The 4-bit form as the forward pass uses it (codes, scales, tables), or null while the weight is dense. */
    public DeviceQuantizedTensor quantizedWeight() {
        return quantized;
    }

    /** The 4-bit weight as a heap copy (for saving), or null while the weight is dense. */
    public QuantizedTensor quantizedTensor() {
        return quantized == null ? null : quantized.download();
    }

    /** How the weight is quantised, or null while it is dense. */
    public QuantConfig quantConfig() {
        return quantized == null ? null : quantConfig;
    }

    /** Bytes of the 4-bit codes and their block scales (lookup tables excluded, as bitsandbytes counts). */
    public long quantizedBytes() {
        return quantizedBytes;
    }

    /** Null when the projection has no bias. */
    public NDArray bias() {
        return bias;
    }

    /**
     * Replaces the dense weight by its 4-bit quantisation (bitsandbytes' NF4/FP4 layout) and frees the
     * float32 array. Returns the dense values' quantisation error as measured on the way.
     */
    public oneml.quant.QuantError quantize(QuantConfig config) {
        if (quantized != null) {
            throw new IllegalStateException(path + " is quantised already");
        }
        float[] values = weight.toFloatArray();
        QuantizedTensor codes = Quantizer.quantize(values, new long[] {out, in}, config);
        quantConfig = config;
        quantizedBytes = codes.storageBytes();
        quantizedOwner = weight.getManager();
        quantized = codes.upload(quantizedOwner); // the Java-side copy is dropped: native memory only
        weight.close();
        weight = null;
        return codes.error(values);
    }

    /**
     * Replaces the weight values (merge and unmerge); the new values must have the weight's shape. A dense
     * weight keeps its array object (the state dict points at it); a quantised one is quantised again,
     * which rounds: merging into a 4-bit base loses precision, as it does in PEFT.
     */
    public void setWeight(NDArray values) {
        if (values.getShape().get(0) != out || values.getShape().get(1) != in) {
            throw new IllegalArgumentException(path + ": weight shape (" + out + ", " + in + ") cannot take values of shape " + values.getShape());
        }
        if (quantized == null) {
            oneml.tensor.Kernels.assign(weight, values.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray());
            return;
        }
        quantized.close();
        QuantizedTensor codes = Quantizer.quantize(values.toFloatArray(), new long[] {out, in}, quantConfig);
        quantizedBytes = codes.storageBytes();
        quantized = codes.upload(quantizedOwner);
    }

    /** Adds {@code delta} to the weight: in place when dense, by dequantise-add-requantise when quantised. */
    public void addToWeight(NDArray delta) {
        if (quantized == null) {
            weight.addi(delta);
            return;
        }
        try (NDManager scratch = delta.getManager().newSubManager()) {
            setWeight(weight(scratch).add(delta));
        }
    }

    @Override
    public long inFeatures() {
        return in;
    }

    @Override
    public long outFeatures() {
        return out;
    }

    @Override
    public Linear base() {
        return this;
    }

    @Override
    public String toString() {
        return "Linear(" + path + ", in=" + in + ", out=" + out + (bias != null ? ", bias" : "")
                + (quantized != null ? ", " + quantConfig.type() : "") + ")";
    }
}
