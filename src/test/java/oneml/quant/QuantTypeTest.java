package oneml.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The two 4-bit codebooks and bitsandbytes' choice of code for a normalised value. */
class QuantTypeTest {
    /** REFERENCE.md / bitsandbytes get_4bit_type("nf4"), as Python doubles. */
    private static final double[] NF4_DOUBLES = {
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
        -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
        0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0
    };

    @Test
    void nf4CodebookIsTheQloraTableRoundedToFloat32AsTorchDoes() {
        // torch.tensor(list of Python floats) rounds each double to float32; the float literals agree
        for (int i = 0; i < 16; i++) {
            assertEquals((float) NF4_DOUBLES[i], QuantType.NF4.code(i), "code " + i);
        }
    }

    @Test
    void fp4CodebookIsBitsandbytesTableOverTwelve() {
        float[] expected = {
            0f, 0.0625f / 12f, 8f / 12f, 1f, 4f / 12f, 6f / 12f, 2f / 12f, 3f / 12f,
            0f, -0.0625f / 12f, -8f / 12f, -1f, -4f / 12f, -6f / 12f, -2f / 12f, -3f / 12f
        };
        assertArrayEquals(expected, QuantType.FP4.codebook());
        // the CUDA dequantiser's literals (dDequantizeFP4Tree) are the same floats
        assertEquals(5.208333333e-03f, QuantType.FP4.code(0b0001));
        assertEquals(0.66666667f, QuantType.FP4.code(0b0010));
        assertEquals(0.33333333f, QuantType.FP4.code(0b0100));
        assertEquals(0.16666667f, QuantType.FP4.code(0b0110));
    }

    @Test
    void nf4ThresholdsAreTheMidpointsBetweenNeighbouringCodes() {
        float[] t = QuantType.NF4.thresholds();
        assertEquals(15, t.length);
        for (int i = 0; i < 15; i++) {
            double mid = ((double) QuantType.NF4.code(i) + QuantType.NF4.code(i + 1)) / 2;
            assertTrue(Math.abs(t[i] - mid) <= Math.ulp(t[i]), "threshold " + i + ": " + t[i] + " vs " + mid);
        }
    }

    @Test
    void fp4ThresholdsSitBetweenTheSortedMagnitudes() {
        float[] magnitudes = {0f, 0.0625f / 12, 2f / 12, 3f / 12, 4f / 12, 6f / 12, 8f / 12, 1f};
        float[] t = QuantType.FP4.thresholds();
        for (int i = 0; i < 7; i++) {
            double mid = ((double) magnitudes[i] + magnitudes[i + 1]) / 2;
            assertEquals(mid, t[i], 2e-6, "threshold " + i);
        }
    }

    @Test
    void everyCodeQuantisesToItsOwnIndex() {
        for (QuantType type : QuantType.values()) {
            for (int i = 0; i < 16; i++) {
                // FP4 has 0.0 twice (index 8 is Python's -0, i.e. +0.0); 0.0 takes index 0
                int expected = type == QuantType.FP4 && i == 8 ? 0 : i;
                assertEquals(expected, type.quantizeNormalized(type.code(i)), type + " code " + i);
            }
        }
    }

    @Test
    void aValueOnAMidpointTakesTheLowerCodeAndJustAboveTakesTheUpper() {
        float[] t = QuantType.NF4.thresholds();
        for (int i = 0; i < 15; i++) {
            assertEquals(i, QuantType.NF4.quantizeNormalized(t[i]), "NF4 tie at threshold " + i);
            assertEquals(i + 1, QuantType.NF4.quantizeNormalized(Math.nextUp(t[i])), "NF4 above threshold " + i);
        }
        // FP4 compares |x|: a tie goes to the smaller magnitude, for either sign
        float mid = 0.0859375f; // between 0.0625/12 (0b001) and 2/12 (0b110)
        assertEquals(0b0001, QuantType.FP4.quantizeNormalized(mid));
        assertEquals(0b1001, QuantType.FP4.quantizeNormalized(-mid));
        assertEquals(0b0110, QuantType.FP4.quantizeNormalized(Math.nextUp(mid)));
        assertEquals(0b1110, QuantType.FP4.quantizeNormalized(-Math.nextUp(mid)));
    }

    @Test
    void nanFromAnAllZeroBlockTakesIndexZeroLikeTheCudaTrees() {
        assertEquals(0, QuantType.NF4.quantizeNormalized(Float.NaN));
        assertEquals(0, QuantType.FP4.quantizeNormalized(Float.NaN));
    }

    @Test
    void quantisingPicksTheNearestCodeAwayFromTies() {
        java.util.Random random = new java.util.Random(7);
        for (QuantType type : QuantType.values()) {
            for (int k = 0; k < 20_000; k++) {
                float x = random.nextFloat() * 2.2f - 1.1f;
                float got = type.code(type.quantizeNormalized(x));
                float best = Float.MAX_VALUE;
                for (int i = 0; i < 16; i++) {
                    best = Math.min(best, Math.abs(type.code(i) - x));
                }
                assertTrue(Math.abs(got - x) <= best + 1e-6f, type + " x=" + x + " got " + got);
            }
        }
    }

    @Test
    void pairTableDecodesHighNibbleFirst() {
        float[] table = QuantType.NF4.pairTable();
        assertEquals(512, table.length);
        assertEquals(QuantType.NF4.code(0xF), table[2 * 0xF2]);
        assertEquals(QuantType.NF4.code(0x2), table[2 * 0xF2 + 1]);
        assertEquals(QuantType.NF4.code(0x7), table[2 * 0x7D]);
        assertEquals(QuantType.NF4.code(0xD), table[2 * 0x7D + 1]);
    }
}
