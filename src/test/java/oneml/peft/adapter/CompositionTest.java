package oneml.peft.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import oneml.AdapterConfig;
import oneml.LoRAConfig;
import oneml.model.CausalLM;
import oneml.model.Engines;
import oneml.peft.PeftModel;
import oneml.train.TrainConfig;
import oneml.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Several adapters on one frozen base: switching, Stack, Average and Parallel against hand computations. */
class CompositionTest {
    private static final AdapterConfig HOULSBY = AdapterConfig.houlsby().toBuilder().reductionFactor(8).initWeights("bert").build();
    private static final AdapterConfig PFEIFFER = AdapterConfig.pfeiffer().toBuilder().reductionFactor(8).initWeights("bert").build();

    /** "a" (Houlsby) and "b" (Pfeiffer) with random, amplified up-projections so each visibly changes the output. */
    private static PeftModel twoAdapters(CausalLM base) {
        PeftModel model = PeftModel.create(base, HOULSBY, "a", 1);
        model.addAdapter("b", PFEIFFER, 2);
        Fixtures.amplify(model.adapter("a").parameters(), 20f);
        Fixtures.amplify(model.adapter("b").parameters(), 20f);
        return model;
    }

    private static String prefix(int layer, Tap tap) {
        return BottleneckAdapter.KEY_PREFIX + "model.layers." + layer + "." + tap.moduleName + ".";
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void switchingChangesOutputsAndSwitchingBackRestoresThemExactly(String family) {
        try (CausalLM base = Fixtures.load(family); NDManager m = base.manager().newSubManager()) {
            float[] plain = Fixtures.logits(base, m);
            PeftModel model = twoAdapters(base);
            float[] a = Fixtures.logits(base, m);
            model.setAdapter("b");
            float[] b = Fixtures.logits(base, m);
            assertNotEquals(a[0], b[0]);
            assertNotEquals(plain[0], b[0]);
            model.setAdapter("a");
            assertArrayEquals(a, Fixtures.logits(base, m), 0f);
            model.setAdapter("b");
            assertArrayEquals(b, Fixtures.logits(base, m), 0f);
            assertEquals(model.adapter("b").parameters().values().stream().mapToLong(NDArray::size).sum(), model.trainableParameterCount(),
                    "only the active adapter trains");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void averageOfOneAdapterIsThatAdapter(String family) {
        try (CausalLM base = Fixtures.load(family); NDManager m = base.manager().newSubManager()) {
            PeftModel model = twoAdapters(base);
            float[] a = Fixtures.logits(base, m);
            model.compose(Compose.average("a"));
            assertArrayEquals(a, Fixtures.logits(base, m), 0f);
            model.compose(Compose.average("a", "b").withWeights(1, 0));
            assertArrayEquals(a, Fixtures.logits(base, m), 0f, "weight 0 switches an adapter off");
        }
    }

    @Test
    void averageOfTwoIsTheWeightedAverageOfTheirOutputsAtEveryTap() {
        try (CausalLM base = Fixtures.load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel model = twoAdapters(base);
            model.compose(Compose.average("a", "b").withWeights(3, 1));
            assertEquals(List.of(0.75, 0.25), ((Compose.Average) model.composition()).weights());
            float[][] s = Fixtures.rows(5, 32, 11);
            for (int layer = 0; layer < 2; layer++) {
                for (Tap tap : Tap.values()) {
                    NDArray in = m.create(Fixtures.flat(s), new Shape(1, 5, 32));
                    float[] actual = (tap == Tap.ATTENTION ? base.hooks().afterAttention(layer, in) : base.hooks().afterMlp(layer, in)).toFloatArray();
                    float[][] da = Fixtures.delta(model.adapter("a").parameters(), prefix(layer, tap), "swish", s);
                    // "b" is a Pfeiffer adapter: after attention it has no layer and counts as the identity
                    float[][] db = tap == Tap.MLP ? Fixtures.delta(model.adapter("b").parameters(), prefix(layer, tap), "relu", s) : new float[5][32];
                    float[] expected = new float[5 * 32];
                    for (int i = 0; i < 5; i++) {
                        for (int k = 0; k < 32; k++) {
                            // 0.75 (s + A(s)) + 0.25 (s + B(s))
                            expected[i * 32 + k] = (float) (0.75 * (s[i][k] + da[i][k]) + 0.25 * (s[i][k] + db[i][k]));
                        }
                    }
                    assertArrayEquals(expected, actual, 2e-5f, tap + " layer " + layer);
                }
            }
        }
    }

    /**
     * End to end: averaging two adapters with bottleneck 4 equals one adapter with bottleneck 8 holding both side by side,
     * W_down = [W_down_a; W_down_b], W_up = [w_a W_up_a, w_b W_up_b], b_up = w_a b_up_a + w_b b_up_b.
     */
    @Test
    void averageEqualsOneWideAdapterWithBothBottlenecksSideBySide() {
        try (CausalLM base = Fixtures.load("llama"); NDManager m = base.manager().newSubManager()) {
            AdapterConfig narrow = PFEIFFER.toBuilder().afterAttention(true).build();
            PeftModel model = PeftModel.create(base, narrow, "a", 1);
            model.addAdapter("b", narrow, 2);
            model.addAdapter("wide", narrow.toBuilder().reductionFactor(4).build(), 3);
            Fixtures.amplify(model.adapter("a").parameters(), 20f);
            Fixtures.amplify(model.adapter("b").parameters(), 20f);
            double wa = 0.3;
            double wb = 0.7;
            Engines.noGradInThisThread();
            Map<String, NDArray> pa = model.adapter("a").parameters();
            Map<String, NDArray> pb = model.adapter("b").parameters();
            for (var e : model.adapter("wide").parameters().entrySet()) {
                float[] x = pa.get(e.getKey()).toFloatArray();
                float[] y = pb.get(e.getKey()).toFloatArray();
                float[] v = new float[(int) e.getValue().size()];
                String k = e.getKey();
                if (k.endsWith("adapter_down.weight") || k.endsWith("adapter_down.bias")) { // rows of a, then rows of b
                    System.arraycopy(x, 0, v, 0, x.length);
                    System.arraycopy(y, 0, v, x.length, y.length);
                } else if (k.endsWith("adapter_up.weight")) { // [32, 8]: columns of a, then columns of b, weighted
                    for (int row = 0; row < 32; row++) {
                        for (int j = 0; j < 4; j++) {
                            v[row * 8 + j] = (float) (wa * x[row * 4 + j]);
                            v[row * 8 + 4 + j] = (float) (wb * y[row * 4 + j]);
                        }
                    }
                } else {
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) (wa * x[i] + wb * y[i]);
                    }
                }
                e.getValue().set(v);
            }
            model.setAdapter("wide");
            float[] wide = Fixtures.logits(base, m);
            model.compose(Compose.average("a", "b").withWeights(wa, wb));
            float[] averaged = Fixtures.logits(base, m);
            assertArrayEquals(wide, averaged, 1e-5f);
            model.setAdapter("a");
            assertNotEquals(averaged[0], Fixtures.logits(base, m)[0]);
        }
    }

    @Test
    void stackFeedsEachAdaptersOutputToTheNext() {
        try (CausalLM base = Fixtures.load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel model = twoAdapters(base);
            model.compose(Compose.stack("b", "a"));
            float[][] s = Fixtures.rows(4, 32, 5);
            NDArray in = m.create(Fixtures.flat(s), new Shape(2, 2, 32));
            float[] actual = base.hooks().afterMlp(1, in).toFloatArray();
            float[][] db = Fixtures.delta(model.adapter("b").parameters(), prefix(1, Tap.MLP), "relu", s);
            float[][] s1 = new float[4][32];
            for (int i = 0; i < 4; i++) {
                for (int k = 0; k < 32; k++) {
                    s1[i][k] = s[i][k] + db[i][k];
                }
            }
            float[][] da = Fixtures.delta(model.adapter("a").parameters(), prefix(1, Tap.MLP), "swish", s1);
            float[] expected = new float[4 * 32];
            for (int i = 0; i < 4; i++) {
                for (int k = 0; k < 32; k++) {
                    expected[i * 32 + k] = s1[i][k] + da[i][k];
                }
            }
            assertArrayEquals(expected, actual, 2e-5f);
            model.compose(Compose.stack("a"));
            model.setAdapter("a");
            float[] alone = Fixtures.logits(base, m);
            model.compose(Compose.stack("a"));
            assertArrayEquals(alone, Fixtures.logits(base, m), 0f, "a Stack of one adapter is that adapter");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gpt2"})
    void parallelReturnsEachAdaptersOutputForAReplicatedBatch(String family) {
        try (CausalLM base = Fixtures.load(family); NDManager m = base.manager().newSubManager()) {
            PeftModel model = twoAdapters(base);
            float[] a = Fixtures.logits(base, m);
            model.setAdapter("b");
            float[] b = Fixtures.logits(base, m);
            Compose.Parallel both = Compose.parallel("a", "b");
            model.compose(both);
            NDArray out = model.forward(m.create(Fixtures.IDS, new Shape(2, 8)));
            assertEquals(new Shape(4, 8, base.config().vocabSize()), out.getShape(), "[n*B, T, vocab]");
            Map<String, NDArray> parts = both.split(out);
            assertEquals(List.of("a", "b"), List.copyOf(parts.keySet()));
            assertArrayEquals(a, parts.get("a").toFloatArray(), 1e-5f);
            assertArrayEquals(b, parts.get("b").toFloatArray(), 1e-5f);

            model.compose(Compose.parallel("b", "a")); // order decides the rows
            Map<String, NDArray> swapped = Compose.parallel("b", "a").split(model.forward(m.create(Fixtures.IDS, new Shape(2, 8))));
            assertArrayEquals(a, swapped.get("a").toFloatArray(), 1e-5f);
            assertArrayEquals(b, swapped.get("b").toFloatArray(), 1e-5f);
        }
    }

    @Test
    void parallelRefusesTrainingAndPassesThatSkipTheEmbeddings() {
        try (CausalLM base = Fixtures.load("llama"); NDManager m = base.manager().newSubManager()) {
            PeftModel model = twoAdapters(base);
            model.compose(Compose.parallel("a", "b"));
            model.setTraining(true);
            var training = assertThrows(IllegalStateException.class, () -> Fixtures.logits(base, m));
            assertTrue(training.getMessage().contains("for inference") && training.getMessage().contains("setAdapter"), training.getMessage());
            model.setTraining(false);
            // a pass that did not compute embeddings (as a cached generation step) must not be split silently
            var skipped = assertThrows(IllegalStateException.class, () -> base.hooks().afterMlp(0, m.zeros(new Shape(4, 1, 32))));
            assertTrue(skipped.getMessage().contains("generate with one adapter"), skipped.getMessage());
            assertEquals(4, model.forward(m.create(Fixtures.IDS, new Shape(2, 8))).getShape().get(0), "plain passes still work");
        }
    }

    @Test
    void compositionFollowsDisableSwitchAndDelete() throws Exception {
        try (CausalLM base = Fixtures.load("llama"); NDManager m = base.manager().newSubManager()) {
            float[] plain = Fixtures.logits(base, m);
            PeftModel model = twoAdapters(base);
            float[] a = Fixtures.logits(base, m);
            model.compose(Compose.average("a", "b"));
            float[] averaged = Fixtures.logits(base, m);
            assertTrue(model.toString().contains("composition: Average[a=0.500, b=0.500]"), model.toString());
            try (var off = model.disableAdapters()) {
                assertArrayEquals(plain, Fixtures.logits(base, m), 0f);
            }
            assertArrayEquals(averaged, Fixtures.logits(base, m), 0f, "closing the handle brings the composition back");
            model.setAdapter("a");
            assertNull(model.composition());
            assertArrayEquals(a, Fixtures.logits(base, m), 0f);
            model.compose(Compose.average("a", "b"));
            model.deleteAdapter("b");
            assertNull(model.composition(), "deleting a member ends the composition");
            assertArrayEquals(a, Fixtures.logits(base, m), 0f);
        }
    }

    @Test
    void trainingUnderACompositionUpdatesTheActiveAdapterOnly() {
        try (CausalLM base = Fixtures.load("llama")) {
            PeftModel model = twoAdapters(base);
            model.setAdapter("b").compose(Compose.stack("a", "b"));
            Map<String, float[]> a = values(model.adapter("a").parameters());
            Map<String, float[]> b = values(model.adapter("b").parameters());
            TrainConfig config = TrainConfig.builder().steps(3).batchSize(4).learningRate(1e-2).evalEvery(0).build();
            new Trainer(model, Fixtures.task("up", 8, 10, 1), List.of(), config, List.of()).run();
            values(model.adapter("a").parameters()).forEach((k, v) -> assertArrayEquals(a.get(k), v, 0f, "a stays: " + k));
            values(model.adapter("b").parameters()).forEach((k, v) -> assertFalse(java.util.Arrays.equals(b.get(k), v), "b trains: " + k));
        }
    }

    @Test
    void badCompositionsFailClearly() {
        try (CausalLM base = Fixtures.load("llama")) {
            PeftModel model = twoAdapters(base);
            model.addAdapter("lora", LoRAConfig.builder().r(2).build());
            var unknown = assertThrows(IllegalArgumentException.class, () -> model.compose(Compose.average("a", "c")));
            assertTrue(unknown.getMessage().contains("'c'") && unknown.getMessage().contains("[a, b, lora]"), unknown.getMessage());
            var lora = assertThrows(IllegalArgumentException.class, () -> model.compose(Compose.parallel("a", "lora")));
            assertTrue(lora.getMessage().contains("bottleneck adapters (AdapterConfig) only"), lora.getMessage());
            assertNull(model.composition(), "a refused composition changes nothing");
        }
        assertThrows(IllegalArgumentException.class, Compose::average);
        var twice = assertThrows(IllegalArgumentException.class, () -> Compose.stack("a", "a"));
        assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
        var count = assertThrows(IllegalArgumentException.class, () -> Compose.average("a", "b").withWeights(1));
        assertTrue(count.getMessage().contains("needs 2 weights"), count.getMessage());
        var zero = assertThrows(IllegalArgumentException.class, () -> Compose.average("a", "b").withWeights(1, -1));
        assertTrue(zero.getMessage().contains("sum to 0"), zero.getMessage());
        assertEquals("Parallel[a, b]", Compose.parallel("a", "b").toString());
        assertEquals("Stack[x, y]", Compose.stack("x", "y").toString());
    }

    private static Map<String, float[]> values(Map<String, NDArray> arrays) {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        arrays.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }
}
