package oneml.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import oneml.Models;
import oneml.TestPaths;
import oneml.model.CausalLM;
import oneml.model.GenerationConfig;
import oneml.model.Generator;
import oneml.train.Evaluator;
import oneml.train.StopReason;
import oneml.train.TokenizedExample;
import oneml.train.TrainConfig;
import oneml.train.Trainer;
import oneml.train.TrainingRun;

/** What the tests of each PEFT method's package share: models, inputs, data and the common checks. */
public final class PeftTesting {
    private PeftTesting() {}

    /** The tiny Hugging Face checkpoint of a family ("llama": 4 heads sharing 2 kv heads; "gpt2"). */
    public static CausalLM load(String family) {
        return Models.load(TestPaths.vectors(family));
    }

    /** Logits of a fixed [2, 8] batch, flattened. */
    public static float[] logits(CausalLM model, NDManager m) {
        NDArray ids = m.create(new long[] {5, 17, 3, 96, 40, 2, 11, 63, 7, 1, 8, 9, 10, 11, 12, 13}, new Shape(2, 8));
        NDArray out = model.forward(ids);
        assertArrayEquals(new long[] {2, 8, model.config().vocabSize()}, out.getShape().getShape(), "logits keep the input's positions");
        return out.toFloatArray();
    }

    /** Sequences counting upwards modulo 90 from a random start: easy to learn, never trivial (as TrainerTest's). */
    public static List<TokenizedExample> counting(int count, int length, long seed) {
        Random r = new Random(seed);
        List<TokenizedExample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int start = r.nextInt(90);
            int len = length - r.nextInt(3);
            long[] ids = new long[len];
            for (int t = 0; t < len; t++) {
                ids[t] = 3 + (start + t) % 90;
            }
            long[] labels = ids.clone();
            labels[0] = CausalLM.IGNORE;
            out.add(new TokenizedExample(ids, labels));
        }
        return out;
    }

    /**
     * Trains on the counting task and checks that the best validation loss falls at least {@code minDrop} below the
     * untrained one while the base weights stay exactly as they were.
     */
    public static TrainingRun assertTrainingLowersValidationLoss(PeftModel model, double learningRate, int steps, double minDrop) {
        CausalLM base = model.model();
        Map<String, float[]> frozen = values(base.stateDict());
        List<TokenizedExample> validation = counting(16, 12, 2);
        double untrained = Evaluator.loss(base, validation, 8);
        TrainConfig config = TrainConfig.builder().steps(steps).batchSize(8).learningRate(learningRate).evalEvery(steps / 4).build();
        TrainingRun run = new Trainer(model, counting(64, 12, 1), validation, config, List.of()).run();
        assertEquals(StopReason.COMPLETED, run.stopReason(), run.toString());
        assertTrue(run.bestValidationLoss() < untrained - minDrop, "untrained " + untrained + ", " + run + "\n" + run.evaluations());
        values(base.stateDict()).forEach((k, v) -> assertArrayEquals(frozen.get(k), v, 0f, k + " must stay frozen"));
        System.out.printf("%s: validation loss %.4f untrained -> %.4f best (step %d)%n", model.adapter(model.activeAdapter()).config().label(),
                untrained, run.bestValidationLoss(), run.bestStep());
        return run;
    }

    public static Map<String, float[]> values(Map<String, NDArray> arrays) {
        Map<String, float[]> out = new LinkedHashMap<>();
        arrays.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    /** One backward pass: every adapter array gets a non-zero gradient, no base weight gets any. */
    public static void onlyAdapterArraysGetGradients(PeftModel model, NDManager m) {
        CausalLM base = model.model();
        NDArray ids = m.create(new long[] {5, 17, 3, 96, 40, 2, 11, 63}, new Shape(1, 8));
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(CausalLM.causalLmLoss(model.forward(ids), ids));
        }
        for (var e : model.trainableParameters().entrySet()) {
            NDArray g = e.getValue().getGradient();
            assertTrue(g.abs().sum().getFloat() > 0, e.getKey() + " gets a gradient");
            assertTrue(Float.isFinite(g.sum().getFloat()), e.getKey() + " has a finite gradient");
            g.close();
        }
        for (var e : base.stateDict().entrySet()) {
            assertFalse(e.getValue().hasGradient(), e.getKey() + " is frozen");
        }
    }

    /** Greedy tokens by recomputing the whole sequence at each step, without a cache (the reference for the cached generator). */
    public static long[] greedyWithoutCache(CausalLM model, long[] prompt, int maxNew) {
        List<Long> seq = new ArrayList<>();
        for (long t : prompt) {
            seq.add(t);
        }
        long[] out = new long[maxNew];
        int produced = 0;
        oneml.model.Engines.noGradInThisThread();
        while (produced < maxNew) {
            long next;
            try (NDManager m = model.manager().newSubManager()) {
                long[] ids = seq.stream().mapToLong(Long::longValue).toArray();
                NDArray logits = model.forward(m.create(ids, new Shape(1, ids.length)));
                float[] last = logits.get(new NDIndex("0, -1, :")).toFloatArray();
                int best = 0;
                for (int i = 1; i < last.length; i++) {
                    if (last[i] > last[best]) {
                        best = i;
                    }
                }
                next = best;
            }
            if (next == model.config().eosTokenId()) {
                break;
            }
            out[produced++] = next;
            seq.add(next);
        }
        return Arrays.copyOf(out, produced);
    }

    /** The cached generator and full recomputation agree token for token. */
    public static long[] assertCachedGenerationMatchesRecomputation(CausalLM model, long[] prompt, int maxNew) {
        long[] cached = Generator.generate(model, prompt, GenerationConfig.greedy(maxNew));
        long[] recomputed = greedyWithoutCache(model, prompt, maxNew);
        assertArrayEquals(recomputed, cached, "greedy tokens with the KV cache vs recomputed without it");
        return cached;
    }

    public static JsonObject adapterConfig(Path dir) throws IOException {
        return JsonParser.parseString(Files.readString(dir.resolve(AdapterFiles.CONFIG))).getAsJsonObject();
    }
}
