package oneml.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import oneml.model.Engines;
import org.junit.jupiter.api.Test;

/**
 * The figures worth knowing about the format, printed so that a run records them: the error on a
 * N(0, 0.02) weight, and how long DJL takes to dequantise a 1024 x 1024 weight. Assertions are loose bounds.
 */
class QuantMeasurementsTest {

    @Test
    void errorOnAGaussianWeight() {
        float[] w = QuantizerTest.gaussian(256 * 256, 0.02, 2024);
        long[] shape = {256, 256};
        for (QuantConfig config : new QuantConfig[] {QuantConfig.nf4(), QuantConfig.qlora(), QuantConfig.fp4()}) {
            QuantizedTensor q = Quantizer.quantize(w, shape, config);
            QuantError e = q.error(w);
            System.out.printf("[quant] N(0,0.02) 256x256 %s dq=%s: %s, %.4f bits/param%n",
                    config.type(), config.doubleQuant(), e, q.bitsPerParameter());
            // NF4 on N(0, 0.02): mean |error| about 0.0015, under a tenth of the standard deviation
            double meanBound = config.type() == QuantType.NF4 ? 0.0022 : 0.003;
            assertTrue(e.meanAbs() < meanBound, config + " " + e);
            assertTrue(e.maxAbs() < 0.02, config + " " + e);
        }
    }

    @Test
    void dequantisingA1024SquareWeightWithDjl() {
        Engines.noGradInThisThread();
        float[] w = QuantizerTest.gaussian(1024 * 1024, 0.02, 99);
        QuantizedTensor q = Quantizer.quantize(w, new long[] {1024, 1024}, QuantConfig.qlora());
        try (NDManager owner = Engines.rootManager().newSubManager();
                DeviceQuantizedTensor device = q.upload(owner)) {
            try (NDManager warm = owner.newSubManager()) {
                device.dequantize(warm); // first call pays for the op setup
            }
            try (NDManager step = owner.newSubManager()) {
                long start = System.nanoTime();
                NDArray weight = device.dequantize(step);
                float first = weight.getFloat(0, 0); // forces the result to exist
                double ms = (System.nanoTime() - start) / 1e6;
                System.out.printf("[quant] DJL dequantise 1024x1024 NF4+DQ: %.2f ms (one run)%n", ms);
                assertEquals(q.dequantizeToArray()[0], first);
                assertTrue(ms < 5_000, ms + " ms");
            }
        }
    }
}
