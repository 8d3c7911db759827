package oneml.peft.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import oneml.Models;
import oneml.TestPaths;
import oneml.model.CausalLM;
import oneml.model.Engines;
import oneml.train.TokenizedExample;

/** Shared helpers: the tiny reference models, fixed inputs, synthetic tasks and a plain-Java adapter. */
final class Fixtures {
    private Fixtures() {}

    static CausalLM load(String family) {
        return Models.load(TestPaths.vectors(family));
    }

    static final long[] IDS = {5, 17, 3, 90, 40, 2, 11, 63, 7, 1, 8, 9, 10, 11, 12, 13};

    /** Logits [2, 8, vocab] for a fixed batch, flattened. */
    static float[] logits(CausalLM model, NDManager m) {
        return model.forward(m.create(IDS, new Shape(2, 8))).toFloatArray();
    }

    /**
     * Three toy "tasks" over token ids 3..92 with one learnable rule each: count up by one, count down by
     * one, count up by three. Ragged lengths exercise padding; the first token is not supervised.
     */
    static List<TokenizedExample> task(String name, int count, int length, long seed) {
        int stride = switch (name) {
            case "up" -> 1;
            case "down" -> -1;
            case "skip" -> 3;
            default -> throw new IllegalArgumentException(name);
        };
        Random r = new Random(seed);
        List<TokenizedExample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int start = r.nextInt(90);
            int len = length - r.nextInt(3);
            long[] ids = new long[len];
            for (int t = 0; t < len; t++) {
                ids[t] = 3 + Math.floorMod(start + stride * t, 90);
            }
            long[] labels = ids.clone();
            labels[0] = CausalLM.IGNORE;
            out.add(new TokenizedExample(ids, labels));
        }
        return out;
    }

    /** Multiplies every adapter_up weight by {@code factor}, so a "bert"-initialised adapter visibly changes outputs. */
    static void amplify(Map<String, NDArray> parameters, float factor) {
        Engines.noGradInThisThread();
        parameters.forEach((k, v) -> {
            if (k.endsWith("adapter_up.weight") || k.endsWith("adapter_up.bias")) {
                float[] values = v.toFloatArray();
                for (int i = 0; i < values.length; i++) {
                    values[i] = values[i] * factor + (k.endsWith("bias") ? 0.01f * (i % 7 - 3) : 0f);
                }
                v.set(values);
            }
        });
    }

    /**
     * A(x) for rows x [n, hidden] computed in plain Java from the adapter's arrays under {@code prefix}
     * (e.g. "base_model.model.model.layers.0.output_adapters."): W_up f(W_down x + b_down) + b_up.
     */
    static float[][] delta(Map<String, NDArray> parameters, String prefix, String f, float[][] x) {
        NDArray downArray = parameters.get(prefix + "adapter_down.weight");
        int m = (int) downArray.getShape().get(0);
        int hidden = (int) downArray.getShape().get(1);
        float[] down = downArray.toFloatArray();
        float[] downBias = parameters.get(prefix + "adapter_down.bias").toFloatArray();
        float[] up = parameters.get(prefix + "adapter_up.weight").toFloatArray();
        float[] upBias = parameters.get(prefix + "adapter_up.bias").toFloatArray();
        float[][] out = new float[x.length][hidden];
        for (int row = 0; row < x.length; row++) {
            double[] a = new double[m];
            for (int j = 0; j < m; j++) {
                double z = downBias[j];
                for (int k = 0; k < hidden; k++) {
                    z += (double) down[j * hidden + k] * x[row][k];
                }
                a[j] = activation(f, z);
            }
            for (int k = 0; k < hidden; k++) {
                double y = upBias[k];
                for (int j = 0; j < m; j++) {
                    y += (double) up[k * m + j] * a[j];
                }
                out[row][k] = (float) y;
            }
        }
        return out;
    }

    static double activation(String f, double z) {
        return switch (f) {
            case "relu" -> Math.max(0, z);
            case "tanh" -> Math.tanh(z);
            case "gelu" -> 0.5 * z * (1 + erf(z / Math.sqrt(2)));
            default -> z / (1 + Math.exp(-z)); // swish / silu
        };
    }

    /** erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7). */
    static double erf(double x) {
        double t = 1 / (1 + 0.3275911 * Math.abs(x));
        double y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
        return Math.copySign(y, x);
    }

    /** Deterministic rows [n, hidden] in about [-2, 2]. */
    static float[][] rows(int n, int hidden, long seed) {
        Random r = new Random(seed);
        float[][] x = new float[n][hidden];
        for (float[] row : x) {
            for (int k = 0; k < hidden; k++) {
                row[k] = (float) (r.nextGaussian());
            }
        }
        return x;
    }

    static float[] flat(float[][] x) {
        float[] out = new float[x.length * x[0].length];
        for (int i = 0; i < x.length; i++) {
            System.arraycopy(x[i], 0, out, i * x[0].length, x[0].length);
        }
        return out;
    }
}
