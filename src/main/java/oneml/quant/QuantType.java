package oneml.quant;

/**
 * The 4-bit data types of bitsandbytes: 16 codes, each a float in [-1, 1] that a block's absmax scales.
 *
 * <p>Sources (bitsandbytes, {@code bitsandbytes/functional.py} {@code get_4bit_type} and the CUDA kernels
 * {@code dQuantizeNF4}, {@code dQuantizeFP4}, {@code dDequantizeNF4}, {@code dDequantizeFP4Tree} in
 * {@code csrc/kernels.cu} / {@code csrc/cuda/blockwise_quantization.cu}):
 *
 * <ul>
 *   <li>NF4: the 16 normal-quantile values of the QLoRA paper, index 0 = -1.0 up to index 15 = 1.0, zero at 7.
 *   <li>FP4: 1 sign bit (0b1000), 2 exponent bits, 1 mantissa bit; bitsandbytes' table before normalisation is
 *       {@code [0, 0.0625, 8, 12, 4, 6, 2, 3, -0, -0.0625, -8, -12, -4, -6, -2, -3]}, divided by its absmax 12.
 *       Python's {@code -0} is the integer 0, so index 8 decodes to +0.0 there, and here.
 * </ul>
 *
 * <p>Quantising a normalised value x (already multiplied by 1/absmax) follows bitsandbytes' CUDA decision trees,
 * which compare x with hard-coded float32 midpoints between neighbouring codes using strict {@code >}. A value
 * exactly on a midpoint therefore takes the LOWER code (for FP4 the comparison is on |x|, so a tie goes to the
 * smaller magnitude, towards zero), and NaN (0/0 in an all-zero block) fails every comparison and takes index 0.
 */
public enum QuantType {
    /** NormalFloat 4 (QLoRA's default). */
    NF4(
            new float[] {
                -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
                -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
                0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
                0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f
            },
            // dQuantizeNF4's thresholds, ascending: float32 midpoints between codes i and i+1
            new float[] {
                -0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
                -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
                0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
                0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f
            }),

    /** bitsandbytes' 4-bit float (E2M1 with its own exponent bias), normalised to [-1, 1]. */
    FP4(fp4Codebook(),
            // dQuantizeFP4's thresholds on |x|, ascending (midpoints of the sorted magnitudes / 12)
            new float[] {0.00260417f, 0.0859375f, 0.20833333f, 0.29166667f, 0.4166667f, 0.583333f, 0.8333333f});

    /** FP4 magnitude codes (the low three bits) in ascending order of the value they stand for. */
    private static final int[] FP4_BY_RANK = {0b000, 0b001, 0b110, 0b111, 0b100, 0b101, 0b010, 0b011};

    private final float[] codebook;
    private final float[] thresholds;

    QuantType(float[] codebook, float[] thresholds) {
        this.codebook = codebook;
        this.thresholds = thresholds;
    }

    private static float[] fp4Codebook() {
        float[] raw = {0f, 0.0625f, 8f, 12f, 4f, 6f, 2f, 3f};
        float[] code = new float[16];
        for (int i = 0; i < 8; i++) {
            // torch: data.div_(data.abs().max()), a float32 division by 12
            code[i] = raw[i] / 12f;
            code[i + 8] = i == 0 ? 0f : -(raw[i] / 12f);
        }
        return code;
    }

    /** The value that 4-bit index {@code index} (0..15) stands for, before scaling by the block's absmax. */
    public float code(int index) {
        return codebook[index];
    }

    /** A copy of the 16 code values, indexed by the 4-bit index. */
    public float[] codebook() {
        return codebook.clone();
    }

    /**
     * The 4-bit index of a normalised value {@code x} (the weight times 1/absmax), exactly as bitsandbytes'
     * CUDA kernels choose it.
     */
    int quantizeNormalized(float x) {
        if (this == NF4) {
            return countBelow(thresholds, x);
        }
        int sign = x < 0 ? 0b1000 : 0;
        return sign | FP4_BY_RANK[countBelow(thresholds, Math.abs(x))];
    }

    /**
     * How many of the ascending {@code thresholds} are strictly below x: the decision trees of bitsandbytes are
     * binary searches over these, each step taking the upper branch when {@code x > threshold}. NaN counts 0.
     */
    private static int countBelow(float[] thresholds, float x) {
        int count = 0;
        for (int step = Integer.highestOneBit(thresholds.length); step > 0; step >>= 1) {
            int probe = count + step;
            if (probe <= thresholds.length && x > thresholds[probe - 1]) {
                count = probe;
            }
        }
        return count;
    }

    /** A copy of the decision thresholds (ascending; on |x| for FP4). */
    float[] thresholds() {
        return thresholds.clone();
    }

    /**
     * The 256 x 2 table that decodes one packed byte into its two values (high nibble first), as a flat
     * row-major array of 512 floats. Dequantisation in DJL gathers rows of it, since DJL has no bitwise ops.
     */
    float[] pairTable() {
        float[] table = new float[512];
        for (int b = 0; b < 256; b++) {
            table[2 * b] = codebook[b >>> 4];
            table[2 * b + 1] = codebook[b & 0x0F];
        }
        return table;
    }
}
