package oneml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import oneml.model.Engines;
import org.junit.jupiter.api.Test;

class AdamWTest {
    /**
     * Gradient clipping reaches AdamW as a divisor the fused kernel applies while reading the gradients: two steps
     * with gradients g and divisor 8 must equal two steps with g / 8. A large eps makes Adam sensitive to the
     * gradients' scale, so a divisor that were ignored would show.
     */
    @Test
    void aGradientDivisorEqualsDividingTheGradients() {
        Engines.noGradInThisThread();
        try (NDManager m = Engines.rootManager().newSubManager()) {
            Engines.seed(5);
            NDArray start = m.randomNormal(new Shape(4, 5));
            NDArray g = m.randomNormal(new Shape(4, 5)).mul(3);
            float[] divided = twoSteps(m, start, g.div(8), 1);
            float[] divisor = twoSteps(m, start, g, 8);
            float[] ignored = twoSteps(m, start, g, 1);
            assertArrayEquals(divided, divisor, 1e-6f);
            double gap = 0;
            for (int i = 0; i < divided.length; i++) {
                gap = Math.max(gap, Math.abs(divided[i] - ignored[i]));
            }
            assertTrue(gap > 1e-3, "the divisor changes the update at eps 0.1, by " + gap);
        }
    }

    private static float[] twoSteps(NDManager m, NDArray start, NDArray grad, double divisor) {
        NDArray p = start.duplicate();
        try (AdamW adam = new AdamW(Map.of("p", p), m, 0.9, 0.999, 0.1, 0.01)) {
            for (int step = 0; step < 2; step++) {
                adam.step(Map.of("p", grad.duplicate()), 0.05, divisor, false);
            }
        }
        return p.toFloatArray();
    }
}
