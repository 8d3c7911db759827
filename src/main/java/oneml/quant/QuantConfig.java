package oneml.quant;

import java.util.Objects;

/**
 * How to quantise a weight: the 4-bit type, the block size of the 4-bit absmax blocks, and whether the block
 * absmax values are themselves quantised to 8 bits (double quantisation) in blocks of {@code doubleQuantBlocksize}.
 *
 * <p>bitsandbytes' CUDA kernels accept block sizes 64..4096 (powers of two); any positive even size works here.
 * It must be even so that every block starts on a byte boundary of the packed codes.
 *
 * @param type the 4-bit data type
 * @param blocksize elements per absmax block (bitsandbytes' {@code blocksize}, 64 for QLoRA)
 * @param doubleQuant whether to quantise the absmax values (bitsandbytes' {@code compress_statistics},
 *     Transformers' {@code bnb_4bit_use_double_quant})
 * @param doubleQuantBlocksize absmax values per 8-bit block (bitsandbytes fixes 256)
 */
public record QuantConfig(QuantType type, int blocksize, boolean doubleQuant, int doubleQuantBlocksize) {
    public static final int DEFAULT_BLOCKSIZE = 64;
    public static final int DEFAULT_DOUBLE_QUANT_BLOCKSIZE = 256;

    public QuantConfig {
        Objects.requireNonNull(type, "type");
        if (blocksize <= 0) {
            throw new IllegalArgumentException("blocksize must be positive, got " + blocksize);
        }
        if (blocksize % 2 != 0) {
            throw new IllegalArgumentException(
                    "blocksize must be a multiple of 2 (two 4-bit codes per byte), got " + blocksize);
        }
        if (doubleQuantBlocksize <= 0) {
            throw new IllegalArgumentException("doubleQuantBlocksize must be positive, got " + doubleQuantBlocksize);
        }
    }

    /** NF4, blocks of 64, fp32 absmax (4.5 bits per parameter). */
    public static QuantConfig nf4() {
        return new QuantConfig(QuantType.NF4, DEFAULT_BLOCKSIZE, false, DEFAULT_DOUBLE_QUANT_BLOCKSIZE);
    }

    /** FP4, blocks of 64, fp32 absmax. */
    public static QuantConfig fp4() {
        return new QuantConfig(QuantType.FP4, DEFAULT_BLOCKSIZE, false, DEFAULT_DOUBLE_QUANT_BLOCKSIZE);
    }

    /** The QLoRA recipe: NF4, blocks of 64, double quantisation in blocks of 256 (about 4.127 bits per parameter). */
    public static QuantConfig qlora() {
        return nf4().withDoubleQuant(true);
    }

    public QuantConfig withDoubleQuant(boolean on) {
        return new QuantConfig(type, blocksize, on, doubleQuantBlocksize);
    }

    public QuantConfig withBlocksize(int size) {
        return new QuantConfig(type, size, doubleQuant, doubleQuantBlocksize);
    }

    public QuantConfig withType(QuantType t) {
        return new QuantConfig(t, blocksize, doubleQuant, doubleQuantBlocksize);
    }
}
