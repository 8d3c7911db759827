package oneml.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonParser;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Mistral's and Qwen2's sliding window: a query attends to at most {@code window} positions, itself included
 * (Hugging Face's mask: key j for query i when j <= i and i - j < window). The expected values are built by
 * construction from the same weights without a window: each layer's output at position p is that layer run on
 * the window's positions alone, as a sequence starting at p - window + 1.
 */
class SlidingWindowTest {
    private static final int WINDOW = 4;
    private static final long[] IDS = {5, 17, 3, 96, 40, 2, 11, 63, 7, 1, 30, 44};

    private static ModelConfig config(String json) {
        return ModelConfig.fromJson(JsonParser.parseString(json).getAsJsonObject());
    }

    private static String mistral(int layers, String window) {
        return "{\"model_type\": \"mistral\", \"vocab_size\": 97, \"hidden_size\": 32, \"intermediate_size\": 64,"
                + " \"num_hidden_layers\": " + layers + ", \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
                + " \"sliding_window\": " + window + "}";
    }

    private static String qwen2(boolean useWindow, int maxWindowLayers) {
        return "{\"model_type\": \"qwen2\", \"vocab_size\": 97, \"hidden_size\": 32, \"intermediate_size\": 64,"
                + " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
                + " \"use_sliding_window\": " + useWindow + ", \"sliding_window\": " + WINDOW + ", \"max_window_layers\": " + maxWindowLayers + "}";
    }

    /** The same weights (same seed, same names and shapes) under {@code config}. */
    private static CausalLM model(ModelConfig config) {
        return Checkpoints.initialise(config, 7, Engines.rootManager());
    }

    private static float[] logits(CausalLM model, long[] ids) {
        try (NDManager m = model.manager().newSubManager()) {
            return model.forward(m.create(ids, new Shape(1, ids.length))).toFloatArray();
        }
    }

    /**
     * Logits of {@code windowed}'s config computed with {@code full} (the same weights, no window): layer by layer,
     * position p of a windowed layer is the full-attention block run on positions max(0, p - w + 1) .. p only.
     */
    private static float[] byTruncatedContexts(CausalLM full, ModelConfig windowed, long[] ids) {
        try (NDManager m = full.manager().newSubManager()) {
            NDArray h = full.embed(m.create(ids, new Shape(1, ids.length)), 0);
            for (int layer = 0; layer < windowed.numLayers(); layer++) {
                int w = windowed.attentionWindow(layer);
                if (w == 0) {
                    h = full.block(layer, h, 0, null);
                    continue;
                }
                NDList rows = new NDList();
                for (int p = 0; p < ids.length; p++) {
                    int start = Math.max(0, p - w + 1);
                    NDArray context = h.get(new NDIndex(":, {}:{}, :", start, p + 1));
                    rows.add(full.block(layer, context, start, null).get(new NDIndex(":, -1:, :")));
                }
                h = NDArrays.concat(rows, 1);
            }
            return full.head(h).toFloatArray();
        }
    }

    private static float maxDifference(float[] a, float[] b, int fromPosition, int vocab) {
        float max = 0;
        for (int i = fromPosition * vocab; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    @Test
    void mistralWindowMatchesTruncatedContextsAndDiffersFromFullAttention() {
        ModelConfig windowed = config(mistral(2, String.valueOf(WINDOW)));
        ModelConfig none = config(mistral(2, "null"));
        assertEquals(WINDOW, windowed.attentionWindow(0));
        assertEquals(WINDOW, windowed.attentionWindow(1));
        assertEquals(0, none.attentionWindow(1));
        try (CausalLM w = model(windowed); CausalLM f = model(none)) {
            float[] got = logits(w, IDS);
            float[] expected = byTruncatedContexts(f, windowed, IDS);
            assertArrayEquals(expected, got, 1e-4f);
            float[] fullAttention = logits(f, IDS);
            // inside the first window nothing is out of reach; from position WINDOW on the window changes the logits
            assertArrayEquals(Arrays.copyOf(fullAttention, WINDOW * 97), Arrays.copyOf(got, WINDOW * 97), 1e-4f);
            assertTrue(maxDifference(fullAttention, got, WINDOW, 97) > 1e-2, "the window must matter past position " + WINDOW);
        }
    }

    @Test
    void qwen2SlidesOnlyWhenAskedAndOnlyFromMaxWindowLayers() {
        ModelConfig lastLayer = config(qwen2(true, 1));
        assertEquals(0, lastLayer.attentionWindow(0));
        assertEquals(WINDOW, lastLayer.attentionWindow(1));
        ModelConfig off = config(qwen2(false, 0));
        assertTrue(!off.hasSlidingWindow(), "use_sliding_window false: no window on any layer");
        ModelConfig none = config(qwen2(true, 2)); // max_window_layers = all layers: every layer attends in full
        assertTrue(!none.hasSlidingWindow());
        try (CausalLM w = model(lastLayer); CausalLM f = model(off)) {
            assertArrayEquals(byTruncatedContexts(f, lastLayer, IDS), logits(w, IDS), 1e-4f);
            assertTrue(maxDifference(logits(f, IDS), logits(w, IDS), WINDOW, 97) > 1e-2);
        }
        // transformers 5 configs list the layer kinds instead
        ModelConfig listed = config(qwen2(true, 28).replace("}", ", \"layer_types\": [\"sliding_attention\", \"full_attention\"]}"));
        assertEquals(WINDOW, listed.attentionWindow(0));
        assertEquals(0, listed.attentionWindow(1));
    }

    @Test
    void kvCacheKeepsOnlyTheWindowAndMatchesFullRecomputation() {
        ModelConfig windowed = config(mistral(2, String.valueOf(WINDOW)));
        try (CausalLM model = model(windowed); NDManager m = model.manager().newSubManager()) {
            float[] full = logits(model, IDS);
            int prompt = 6; // longer than the window: the first pass masks inside itself, then trims the cache
            try (KvCache cache = new KvCache(m, windowed.numLayers())) {
                NDArray first = model.forward(m.create(Arrays.copyOf(IDS, prompt), new Shape(1, prompt)), cache);
                assertArrayEquals(Arrays.copyOf(full, prompt * 97), first.toFloatArray(), 1e-4f);
                for (int p = prompt; p < IDS.length; p++) {
                    for (int layer = 0; layer < windowed.numLayers(); layer++) {
                        assertEquals(WINDOW - 1, cache.keptPositions(layer), "the cache holds the window less the next token");
                    }
                    float[] step = model.forward(m.create(new long[] {IDS[p]}, new Shape(1, 1)), cache).toFloatArray();
                    assertArrayEquals(Arrays.copyOfRange(full, p * 97, (p + 1) * 97), step, 1e-4f, "position " + p);
                }
                assertEquals(IDS.length, cache.length(), "positions keep counting past the window");
            }
            // greedy generation through the cache picks what recomputing the whole sequence picks
            long[] start = {5, 17, 3};
            long[] generated = Generator.generate(model, start, GenerationConfig.greedy(10));
            long[] seq = start.clone();
            for (long token : generated) {
                float[] l = logits(model, seq);
                long next = Generator.pick(Arrays.copyOfRange(l, l.length - 97, l.length), GenerationConfig.greedy(1), new java.util.Random());
                assertEquals(next, token);
                seq = Arrays.copyOf(seq, seq.length + 1);
                seq[seq.length - 1] = token;
            }
        }
    }

    @Test
    void trainingGradientsDoNotReachPastTheWindow() {
        ModelConfig windowed = config(mistral(1, String.valueOf(WINDOW)));
        try (CausalLM model = model(windowed); NDManager m = model.manager().newSubManager()) {
            NDArray h = model.embed(m.create(IDS, new Shape(1, IDS.length)), 0);
            h.setRequiresGradient(true);
            try (GradientCollector collector = m.getEngine().newGradientCollector()) {
                NDArray out = model.head(model.block(0, h, 0, null));
                collector.backward(out.get(new NDIndex(":, -1, :")).sum());
            }
            float[] grad = h.getGradient().toFloatArray();
            int hidden = windowed.hiddenSize();
            int firstVisible = IDS.length - WINDOW;
            for (int p = 0; p < IDS.length; p++) {
                float norm = 0;
                for (int i = 0; i < hidden; i++) {
                    norm = Math.max(norm, Math.abs(grad[p * hidden + i]));
                }
                if (p < firstVisible) {
                    assertEquals(0f, norm, 1e-12f, "position " + p + " is out of the last query's window");
                } else {
                    assertTrue(norm > 0, "position " + p + " is inside the window");
                }
            }
        }
    }

    @Test
    void windowsRoundTripThroughConfigJson() {
        for (ModelConfig c : new ModelConfig[] {config(mistral(2, "4")), config(mistral(2, "null")), config(qwen2(true, 1)), config(qwen2(false, 1))}) {
            ModelConfig back = ModelConfig.fromJson(JsonParser.parseString(c.toJson()).getAsJsonObject());
            assertEquals(c, back, c.toJson());
        }
    }
}
