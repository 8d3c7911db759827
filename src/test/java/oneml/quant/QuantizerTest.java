package oneml.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Blockwise 4-bit quantisation and double quantisation in plain Java, against hand-computed references. */
class QuantizerTest {
    private static final QuantType NF4 = QuantType.NF4;

    private static float nf4(int i) {
        return NF4.code(i);
    }

    static float[] gaussian(int n, double std, long seed) {
        Random random = new Random(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (random.nextGaussian() * std);
        }
        return w;
    }

    @Test
    void codesAndPackingMatchAHandComputedReference() {
        float tie = 0.03979014977812767f; // the NF4 threshold between code 7 (0.0) and code 8
        float[] w = {
            // block 0, absmax 2 (1/absmax = 0.5 exactly): exact codebook values and a zero
            2f, 2f * nf4(2), 0f, 2f * nf4(13),
            // block 1, absmax 4 from a NEGATIVE element: -1, a plain value, a midpoint tie, just above it
            -4f, 1f, 4f * tie, 4f * Math.nextUp(tie),
            // block 2, partial (3 of 4) and the tensor has odd length: 0.3 -> 1, -0.1 -> -1/3, 0.05 -> 1/6
            0.3f, -0.1f, 0.05f
        };
        QuantizedTensor q = Quantizer.quantize(w, new long[] {11}, QuantConfig.nf4().withBlocksize(4));

        int[] expectedIndex = {15, 2, 7, 13, 0, 10, 7, 8, 15, 4, 9};
        for (int i = 0; i < w.length; i++) {
            assertEquals(expectedIndex[i], q.codeIndex(i), "element " + i);
        }
        // high nibble = even element; the 12th nibble pads with the code of 0.0 (7 for NF4)
        byte[] expectedPacked = {(byte) 0xF2, (byte) 0x7D, (byte) 0x0A, (byte) 0x78, (byte) 0xF4, (byte) 0x97};
        assertArrayEquals(expectedPacked, q.packed());
        assertArrayEquals(new float[] {2f, 4f, 0.3f}, ((Absmax.Plain) q.absmax()).values());
        assertEquals(3, q.blocks());

        float[] expected = {
            2f, 2f * nf4(2), 0f, 2f * nf4(13),
            -4f, 4f * nf4(10), 0f, 4f * nf4(8),
            0.3f * nf4(15), 0.3f * nf4(4), 0.3f * nf4(9)
        };
        assertArrayEquals(expected, q.dequantizeToArray());
    }

    @Test
    void evenLengthHasNoPadAndFp4PadsWithItsZeroCode() {
        QuantizedTensor even = Quantizer.quantize(new float[] {1f, -1f, 0.5f, 0f}, new long[] {2, 2},
                QuantConfig.nf4().withBlocksize(2));
        assertArrayEquals(new byte[] {(byte) 0xF0, (byte) 0xF7}, even.packed()); // block 2: 0.5 is its absmax, 0 -> 7

        QuantizedTensor odd = Quantizer.quantize(new float[] {1f, -0.5f, 0.25f}, new long[] {3}, QuantConfig.fp4());
        // FP4: 1 -> 0b0011, -0.5 -> 0b1101, 0.25 -> 0b0111, pad 0.0 -> 0b0000
        assertArrayEquals(new byte[] {(byte) 0x3D, (byte) 0x70}, odd.packed());
        assertArrayEquals(new float[] {1f, -0.5f, 0.25f}, odd.dequantizeToArray());
    }

    @Test
    void anAllZeroBlockDecodesToZeroAsBitsandbytesDoes() {
        // absmax 0 -> 1/0 = inf -> 0*inf = NaN -> index 0 (-1.0 for NF4) -> -1.0 * 0 = -0.0
        QuantizedTensor q = Quantizer.quantize(new float[] {0f, 0f, 0f, 0f, 1f, -1f}, new long[] {6},
                QuantConfig.nf4().withBlocksize(4));
        assertArrayEquals(new byte[] {0, 0, (byte) 0xF0}, q.packed());
        float[] d = q.dequantizeToArray();
        for (int i = 0; i < 4; i++) {
            assertEquals(0f, d[i], 0f);
        }
        assertEquals(1f, d[4]);
        assertEquals(-1f, d[5]);
    }

    @Test
    void errorPerBlockStaysWithinHalfTheLargestCodeGap() {
        for (QuantType type : QuantType.values()) {
            float[] sorted = type.codebook();
            java.util.Arrays.sort(sorted);
            float maxGap = 0f;
            for (int i = 1; i < 16; i++) {
                maxGap = Math.max(maxGap, sorted[i] - sorted[i - 1]);
            }
            int rows = 333;
            int cols = 301; // 100,233 values: odd, and the last block is partial
            float[] w = gaussian(rows * cols, 0.02, 11);
            QuantizedTensor q = Quantizer.quantize(w, new long[] {rows, cols}, QuantConfig.nf4().withType(type));
            float[] d = q.dequantizeToArray();
            float[] absmax = q.absmax().dequantize();
            for (int i = 0; i < w.length; i++) {
                float bound = absmax[i / 64] * maxGap / 2 * (1 + 1e-5f);
                assertTrue(Math.abs(w[i] - d[i]) <= bound, type + " element " + i + ": |" + w[i] + " - " + d[i]
                        + "| > " + bound);
            }
            // the block maximum is always exact: it normalises to +-1, a code of both types
            for (int b = 0; b < q.blocks(); b++) {
                int arg = b * 64;
                for (int i = b * 64; i < Math.min(w.length, (b + 1) * 64); i++) {
                    if (Math.abs(w[i]) > Math.abs(w[arg])) {
                        arg = i;
                    }
                }
                assertEquals(w[arg], d[arg], Math.ulp(w[arg]), type + " block max " + b);
            }
        }
    }

    @Test
    void doubleQuantisedAbsmaxStaysWithinItsExpectedError() {
        int n = 700 * 64 + 17; // 701 blocks: 3 blocks of 256 absmax values, the last partial
        float[] w = gaussian(n, 0.02, 5);
        QuantizedTensor plain = Quantizer.quantize(w, new long[] {n}, QuantConfig.nf4());
        QuantizedTensor dq = Quantizer.quantize(w, new long[] {n}, QuantConfig.qlora());
        assertArrayEquals(plain.packed(), dq.packed(), "double quantisation leaves the 4-bit codes alone");

        float[] absmax = plain.absmax().dequantize();
        Absmax.DoubleQuantized d = (Absmax.DoubleQuantized) dq.absmax();
        assertEquals(701, d.blocks());
        assertEquals(3, d.absmax2().length);
        assertEquals(256, d.blocksize());
        double mean = 0;
        for (float a : absmax) {
            mean += a;
        }
        assertEquals(mean / absmax.length, d.offset(), Math.ulp(d.offset()));

        float[] code = DynamicMap.signed();
        float halfGap = 0f;
        for (int i = 1; i < 256; i++) {
            halfGap = Math.max(halfGap, (code[i] - code[i - 1]) / 2);
        }
        halfGap = Math.max(halfGap, 1f + code[0]); // -1 lies below the smallest code
        float[] decoded = d.dequantize();
        float[] absmax2 = d.absmax2();
        double worstRelative = 0;
        for (int i = 0; i < absmax.length; i++) {
            float bound = absmax2[i / 256] * halfGap * (1 + 1e-5f) + 2 * Math.ulp(d.offset());
            float err = Math.abs(decoded[i] - absmax[i]);
            assertTrue(err <= bound, "absmax " + i + ": error " + err + " > " + bound);
            worstRelative = Math.max(worstRelative, err / absmax[i]);
        }
        assertTrue(worstRelative < 0.02, "absmax relative error " + worstRelative);
        // and the weight error barely moves
        double plainError = plain.meanAbsError(w);
        double dqError = dq.meanAbsError(w);
        assertTrue(dqError < plainError * 1.02, plainError + " vs " + dqError);
    }

    @Test
    void bitsPerParameterMatchTheQloraFigures() {
        float[] w = gaussian(1024 * 1024, 0.02, 1);
        long[] shape = {1024, 1024};
        QuantizedTensor plain = Quantizer.quantize(w, shape, QuantConfig.nf4());
        QuantizedTensor dq = Quantizer.quantize(w, shape, QuantConfig.qlora());
        assertEquals(524_288 + 16_384 * 4, plain.storageBytes());
        assertEquals(4.5, plain.bitsPerParameter(), 1e-12);
        assertEquals(524_288 + 16_384 + 64 * 4 + 4, dq.storageBytes());
        assertEquals(4.127, dq.bitsPerParameter(), 1e-3);
        assertTrue(dq.toString().contains("4.127 bits/param"), dq.toString());
        assertTrue(plain.toString().contains("NF4") && plain.toString().contains("[1024, 1024]"), plain.toString());
    }

    @Test
    void fp4RoundTripsItsOwnCodebook() {
        float[] values = new float[32];
        for (int i = 0; i < 16; i++) {
            values[i] = QuantType.FP4.code(i);          // block 0, absmax 1
            values[16 + i] = QuantType.FP4.code(i) * 3f; // block 1, absmax 3
        }
        QuantizedTensor q = Quantizer.quantize(values, new long[] {2, 16}, QuantConfig.fp4().withBlocksize(16));
        assertArrayEquals(values, q.dequantizeToArray());
        for (int i = 0; i < 16; i++) {
            assertEquals(i == 8 ? 0 : i, q.codeIndex(i), "code " + i);
        }
    }

    @Test
    void quantisingIsDeterministicAndValueEqual() {
        float[] w = gaussian(5000, 0.02, 9);
        QuantizedTensor a = Quantizer.quantize(w, new long[] {50, 100}, QuantConfig.qlora());
        QuantizedTensor b = Quantizer.quantize(w, new long[] {50, 100}, QuantConfig.qlora());
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, Quantizer.quantize(w, new long[] {100, 50}, QuantConfig.qlora()));
        QuantizedTensor rebuilt = QuantizedTensor.of(a.shape(), a.type(), a.blocksize(), a.packed(), a.absmax());
        assertEquals(a, rebuilt);
    }

    @Test
    void badInputIsRefusedWithAClearMessage() {
        float[] w = {1f, 2f, 3f, 4f};
        long[] shape = {2, 2};
        assertMessage("blocksize must be positive", () -> QuantConfig.nf4().withBlocksize(0));
        assertMessage("blocksize must be positive", () -> QuantConfig.nf4().withBlocksize(-64));
        assertMessage("blocksize must be a multiple of 2", () -> QuantConfig.nf4().withBlocksize(63));
        assertMessage("doubleQuantBlocksize must be positive", () -> new QuantConfig(NF4, 64, true, 0));

        float[] withNan = {1f, Float.NaN, 3f, 4f};
        assertMessage("NaN: element 1 [0, 1]", () -> Quantizer.quantize(withNan, shape, QuantConfig.nf4()));
        float[] withInf = {1f, 2f, Float.NEGATIVE_INFINITY, 4f};
        assertMessage("-Infinity: element 2 [1, 0]", () -> Quantizer.quantize(withInf, shape, QuantConfig.nf4()));
        assertMessage("holds 6 values, got 4", () -> Quantizer.quantize(w, new long[] {2, 3}, QuantConfig.nf4()));
        assertMessage("empty", () -> Quantizer.quantize(new float[0], new long[] {0, 4}, QuantConfig.nf4()));

        QuantizedTensor q = Quantizer.quantize(w, shape, QuantConfig.nf4());
        assertMessage("need 2 packed bytes, got 3", () -> QuantizedTensor.of(shape, NF4, 64, new byte[3], q.absmax()));
        assertMessage("need 2 absmax values, got 1", () -> QuantizedTensor.of(shape, NF4, 2, q.packed(), q.absmax()));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
    }
}
