package oneml.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The training loss against a cross-entropy computed by hand in Java, masked positions included. */
class CausalLmLossTest {
    private static final int B = 2;
    private static final int T = 5;
    private static final int V = 7;

    @Test
    void meanOverCountedNextTokensMatchesAHandComputation() {
        float[] logits = new float[B * T * V];
        Random r = new Random(5);
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) r.nextGaussian() * 3;
        }
        long[] labels = {1, 2, CausalLM.IGNORE, 4, 5, CausalLM.IGNORE, 6, 0, CausalLM.IGNORE, 3};
        double sum = 0;
        int counted = 0;
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T - 1; t++) {
                long target = labels[b * T + t + 1];
                if (target == CausalLM.IGNORE) {
                    continue;
                }
                int at = (b * T + t) * V;
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < V; v++) {
                    max = Math.max(max, logits[at + v]);
                }
                double z = 0;
                for (int v = 0; v < V; v++) {
                    z += Math.exp(logits[at + v] - max);
                }
                sum += -(logits[at + (int) target] - max - Math.log(z));
                counted++;
            }
        }
        try (NDManager m = Engines.rootManager().newSubManager()) {
            NDArray x = m.create(logits, new Shape(B, T, V));
            NDArray y = m.create(labels, new Shape(B, T));
            assertEquals(sum / counted, CausalLM.causalLmLoss(x, y).getFloat(), 1e-5);

            // the last position predicts nothing: its logits get no gradient
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(CausalLM.causalLmLoss(x, y));
            }
            float[] g = x.getGradient().toFloatArray();
            for (int b = 0; b < B; b++) {
                for (int v = 0; v < V; v++) {
                    assertEquals(0f, g[(b * T + T - 1) * V + v], 0f);
                }
            }
        }
    }

    @Test
    void labelsThatDoNotMatchTheLogitsAreAClearError() {
        try (NDManager m = Engines.rootManager().newSubManager()) {
            NDArray x = m.randomNormal(new Shape(2, 4, V));
            NDArray shorter = m.zeros(new Shape(2, 3), ai.djl.ndarray.types.DataType.INT64);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> CausalLM.causalLmLoss(x, shorter));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("(2, 4, 7)") && e.getMessage().contains("(2, 3)"), e.getMessage());
        }
    }

    @Test
    void nothingToCountGivesZeroNotNaN() {
        try (NDManager m = Engines.rootManager().newSubManager()) {
            NDArray x = m.randomNormal(new Shape(1, 3, V));
            long[] none = {1, CausalLM.IGNORE, CausalLM.IGNORE};
            assertEquals(0f, CausalLM.causalLmLoss(x, m.create(none, new Shape(1, 3))).getFloat(), 0f);
        }
    }
}
