package oneml.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import oneml.model.Engines;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Dequantisation in DJL (gather from a 256 x 2 table, no bitwise ops) against the Java reference, bit for bit. */
class DeviceQuantizedTensorTest {

    @BeforeAll
    static void engine() {
        Engines.noGradInThisThread();
    }

    private static int managed(NDManager m) {
        return ((BaseNDManager) m).getManagedArrays().size();
    }

    @Test
    void djlDequantisationEqualsTheJavaReferenceBitForBit() {
        long[][] shapes = {{300, 70}, {3, 7}, {64, 64}, {1, 1}, {257 * 64 + 1}};
        try (NDManager m = Engines.rootManager().newSubManager()) {
            for (long[] shape : shapes) {
                int n = (int) new Shape(shape).size();
                float[] w = QuantizerTest.gaussian(n, 0.02, n);
                if (n > 200) {
                    java.util.Arrays.fill(w, 64, 128, 0f); // an all-zero block: -0.0 must survive too
                }
                for (QuantConfig config : new QuantConfig[] {
                    QuantConfig.nf4(), QuantConfig.fp4(), QuantConfig.qlora(), QuantConfig.fp4().withDoubleQuant(true),
                    QuantConfig.nf4().withBlocksize(128)
                }) {
                    QuantizedTensor q = Quantizer.quantize(w, shape, config);
                    NDArray d = q.dequantize(m);
                    assertEquals(new Shape(shape), d.getShape());
                    assertEquals(DataType.FLOAT32, d.getDataType());
                    // assertArrayEquals on float[] compares bit patterns: -0.0 != 0.0 here
                    assertArrayEquals(q.dequantizeToArray(), d.toFloatArray(),
                            config + " " + java.util.Arrays.toString(shape));
                    d.close();
                }
            }
        }
    }

    @Test
    void uploadedTensorDequantisesRepeatedlyWithoutLeaking() {
        float[] w = QuantizerTest.gaussian(96 * 80, 0.02, 4);
        QuantizedTensor q = Quantizer.quantize(w, new long[] {96, 80}, QuantConfig.qlora());
        float[] reference = q.dequantizeToArray();
        try (NDManager owner = Engines.rootManager().newSubManager();
                DeviceQuantizedTensor device = q.upload(owner)) {
            int resident = managed(owner);
            for (int step = 0; step < 3; step++) {
                try (NDManager stepManager = owner.newSubManager()) {
                    NDArray weight = device.dequantize(stepManager);
                    assertArrayEquals(reference, weight.toFloatArray());
                    assertEquals(1, managed(stepManager), "only the result lives in the step's manager");
                    assertEquals(resident + 1, managed(owner), "intermediates are gone, residents stay");
                }
                assertEquals(resident, managed(owner));
            }
            // 0.5 byte per parameter + double-quantised scales + the small tables
            long codes = 96 * 80 / 2;
            assertTrue(device.residentBytes() >= codes && device.residentBytes() < codes + 4096,
                    device.toString());
        }
    }

    @Test
    void aClosedUploadRefusesToDequantise() {
        QuantizedTensor q = Quantizer.quantize(new float[] {1f, 2f}, new long[] {2}, QuantConfig.nf4());
        try (NDManager m = Engines.rootManager().newSubManager()) {
            DeviceQuantizedTensor device = q.upload(m);
            device.close();
            assertThrows(IllegalStateException.class, () -> device.dequantize(m));
        }
    }

    @Test
    void quantisingAnNDArrayEqualsQuantisingItsValues() {
        float[] w = QuantizerTest.gaussian(32 * 48, 0.02, 8);
        try (NDManager m = Engines.rootManager().newSubManager()) {
            NDArray weight = m.create(w, new Shape(32, 48));
            assertEquals(Quantizer.quantize(w, new long[] {32, 48}, QuantConfig.qlora()),
                    Quantizer.quantize(weight, QuantConfig.qlora()));
            NDArray ints = m.create(new int[] {1, 2});
            assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize(ints, QuantConfig.nf4()));
        }
    }
}
