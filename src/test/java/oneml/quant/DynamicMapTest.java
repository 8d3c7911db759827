package oneml.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.Random;
import oneml.model.Engines;
import org.junit.jupiter.api.Test;

/** bitsandbytes' signed dynamic 8-bit map (create_dynamic_map(signed=True)) and its quantiser. */
class DynamicMapTest {

    @Test
    void hasTheShapeOfTheSignedDynamicMap() {
        float[] code = DynamicMap.signed();
        assertEquals(256, code.length);
        for (int i = 1; i < 256; i++) {
            assertTrue(code[i - 1] < code[i], "ascending at " + i);
        }
        assertEquals(0f, code[127]);
        assertEquals(1f, code[255]);
        for (int i = 0; i < 127; i++) {
            assertEquals(-code[254 - i], code[i], "symmetric at " + i);
        }
        // the smallest magnitude: 1e-6 * mean(0.1, 1)
        assertEquals(5.5e-7f, code[128], 1e-12f);
    }

    @Test
    void matchesPublishedValuesOfTheMap() {
        // Entries of create_dynamic_map(signed=True) as baked into a public port of bitsandbytes' 8-bit codec
        // (printed as Python doubles of float32). That table was evidently built with more intermediate precision
        // and differs from torch's float32 arithmetic by at most 2 ulp in some entries; these entries agree.
        int[] index = {0, 16, 32, 48, 64, 80, 96, 121, 130, 144, 192, 240, 254, 255};
        double[] value = {
            -0.992968738079071, -0.7679687738418579, -0.54296875, -0.3179687261581421, -0.09859374910593033,
            -0.053593751043081284, -0.009718749672174454, -6.625000241911039e-05, 7.749999895168003e-06,
            0.001843750011175871, 0.12109375, 0.796093761920929, 0.992968738079071, 1.0
        };
        float[] code = DynamicMap.signed();
        for (int k = 0; k < index.length; k++) {
            assertEquals((float) value[k], code[index[k]], "index " + index[k]);
        }
    }

    @Test
    void equalsThePythonRecipeRunInLibtorch() {
        // The same steps as bitsandbytes' create_dynamic_map, executed by torch's own kernels through DJL.
        Engines.noGradInThisThread();
        double[] scales = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
        float[] torch = new float[256];
        int count = 0;
        try (NDManager m = Engines.rootManager().newSubManager()) {
            for (int i = 0; i < 7; i++) {
                int n = (1 << i) + 1;
                NDArray boundaries = m.linspace(0.1f, 1f, n);
                // libtorch's x86 build fuses start + step*k into an FMA; a build that does not (e.g. MSVC) rounds
                // a few boundaries differently, and then its bitsandbytes map differs in the last bit too
                assumeTrue(Arrays.equals(boundaries.toFloatArray(), DynamicMap.linspace(0.1f, 1f, n)),
                        "this libtorch build computes linspace(0.1, 1, " + n + ") differently from the x86 build");
                NDArray means = boundaries.get("0:-1").add(boundaries.get("1:")).div(2.0f);
                for (float v : means.mul(scales[i]).toFloatArray()) {
                    torch[count++] = v;
                }
                for (float v : means.mul(-scales[i]).toFloatArray()) {
                    torch[count++] = v;
                }
            }
        }
        torch[count++] = 0f;
        torch[count] = 1f;
        Arrays.sort(torch);
        assertArrayEquals(torch, DynamicMap.signed());
    }

    @Test
    void everyCodeQuantisesToItsIndexAndOthersToTheNearest() {
        float[] code = DynamicMap.signed();
        for (int i = 0; i < 256; i++) {
            assertEquals(i, DynamicMap.quantize(code, code[i]), "code " + i);
        }
        Random random = new Random(3);
        for (int k = 0; k < 50_000; k++) {
            float x = random.nextFloat() * 2f - 1f;
            if (k % 3 == 0) {
                x *= 1e-3f; // the dense region near zero
            }
            float got = code[DynamicMap.quantize(code, x)];
            float best = Float.MAX_VALUE;
            for (float c : code) {
                best = Math.min(best, Math.abs(c - x));
            }
            assertTrue(Math.abs(got - x) <= best * (1 + 1e-6f) + 1e-12f, "x=" + x + " got " + got);
        }
        // beyond the ends: -1 goes to the smallest code, 1 to the largest
        assertEquals(0, DynamicMap.quantize(code, -1f));
        assertEquals(255, DynamicMap.quantize(code, 1f));
    }

    @Test
    void nanTakesIndexZeroLikeTheCudaSearch() {
        assertEquals(0, DynamicMap.quantize(DynamicMap.signed(), Float.NaN));
    }
}
