package oneml.peft.qlora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import oneml.LoRAConfig;
import oneml.Models;
import oneml.Peft;
import oneml.QLoRAConfig;
import oneml.TestPaths;
import oneml.model.CausalLM;
import oneml.model.QuantizationSummary;
import oneml.peft.PeftModel;
import oneml.train.StopReason;
import oneml.train.TokenizedExample;
import oneml.train.TrainConfig;
import oneml.train.Trainer;
import oneml.train.TrainingRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** QLoRA: a 4-bit frozen base under LoRA adapters. */
class QLoraTest {
    @TempDir
    Path tmp;

    private static float[] logits(CausalLM model) {
        try (NDManager m = model.manager().newSubManager()) {
            return model.forward(m.create(new long[] {5, 17, 3, 96, 40, 2, 11, 63}, new Shape(1, 8))).toFloatArray();
        }
    }

    /** RMS of the difference over RMS of the reference. */
    private static double relativeRms(float[] reference, float[] other) {
        double diff = 0;
        double ref = 0;
        for (int i = 0; i < reference.length; i++) {
            diff += (reference[i] - other[i]) * (reference[i] - other[i]);
            ref += reference[i] * reference[i];
        }
        return Math.sqrt(diff / ref);
    }

    @Test
    void quantisedBaseIsCloseAndTheFreshAdapterLeavesItUnchanged() {
        try (CausalLM fp32 = Models.load(TestPaths.vectors("llama")); CausalLM base = Models.load(TestPaths.vectors("llama"))) {
            float[] dense = logits(fp32);
            long params = base.parameterCount();
            PeftModel model = Peft.apply(base, QLoRAConfig.builder().r(4).alpha(8).build());
            QuantizationSummary q = base.quantization();
            assertEquals(params, base.parameterCount(), "quantising keeps the parameter count");
            assertEquals(2 * (32 * 32 + 16 * 32 * 2 + 32 * 32 + 3 * 64 * 32), q.parameters(), "every linear weight, not only the targets");
            assertTrue(q.bitsPerParameter() > 4.1 && q.bitsPerParameter() < 4.6, q.toString());
            assertTrue(q.meanAbsError() < 0.1 * meanAbs(fp32), q.toString());
            float[] quantised = logits(base);
            // the 4-bit model computes exactly what a float32 model holding the dequantised weights computes
            for (var e : fp32.linears().entrySet()) {
                try (NDManager m = fp32.manager().newSubManager()) {
                    e.getValue().base().setWeight(base.linear(e.getKey()).base().weight(m));
                }
            }
            assertArrayEquals(logits(fp32), quantised, 1e-5f);
            assertTrue(relativeRms(dense, quantised) < 0.25, "4-bit logits stay close: " + relativeRms(dense, quantised));
            try (var off = model.disableAdapters()) {
                assertArrayEquals(quantised, logits(base), 0f);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            assertTrue(model.toString().contains("QLoRA") || model.toString().contains("quant"), model.toString());
        }
    }

    private static double meanAbs(CausalLM model) {
        double sum = 0;
        long n = 0;
        for (var e : model.stateDict().entrySet()) {
            if (e.getKey().endsWith("proj.weight")) {
                for (float f : e.getValue().toFloatArray()) {
                    sum += Math.abs(f);
                    n++;
                }
            }
        }
        return sum / n;
    }

    @Test
    void onlyTheAdapterTrainsAndValidationLossFalls() {
        try (CausalLM base = Models.load(TestPaths.vectors("llama"))) {
            PeftModel model = Peft.apply(base, QLoRAConfig.builder().r(8).alpha(16).targetModules("q_proj", "v_proj", "o_proj", "down_proj").build());
            try (NDManager m = base.manager().newSubManager()) {
                NDArray ids = m.create(new long[] {5, 17, 3, 96, 40, 2, 11, 63}, new Shape(1, 8));
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(CausalLM.causalLmLoss(model.forward(ids), ids));
                }
                base.stateDict().forEach((k, v) -> assertFalse(v.hasGradient(), k));
                model.trainableParameters().values().forEach(p -> p.getGradient().close());
                base.linears().values().forEach(l -> assertTrue(l.base().isQuantized()));
            }
            // a base this small does not checkpoint on its own (its float32 weights are far below the threshold);
            // ask for it so the test covers the recompute path a large 4-bit base takes
            assertFalse(model.needsGradientCheckpointing());
            TrainConfig config = TrainConfig.builder().steps(30).batchSize(8).learningRate(1e-2).evalEvery(10)
                    .gradientCheckpointing(true).build();
            // against the untrained loss, not the first validation: how fast the first ten steps go is no part of the claim
            double untrained = oneml.train.Evaluator.loss(model.model(), counting(16, 2), 8);
            TrainingRun run = new Trainer(model, counting(64, 1), counting(16, 2), config, List.of()).run();
            assertEquals(StopReason.COMPLETED, run.stopReason());
            assertTrue(run.bestValidationLoss() < untrained - 0.3, "untrained " + untrained + ", " + run + "\n" + run.evaluations());
            System.out.printf("[qlora] validation loss %.3f untrained -> %.3f best in 30 steps%n", untrained, run.bestValidationLoss());
        }
    }

    static List<TokenizedExample> counting(int count, long seed) {
        Random r = new Random(seed);
        List<TokenizedExample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int start = r.nextInt(90);
            long[] ids = new long[12];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = 3 + (start + t) % 90;
            }
            long[] labels = ids.clone();
            labels[0] = CausalLM.IGNORE;
            out.add(new TokenizedExample(ids, labels));
        }
        return out;
    }

    @Test
    void mergesIntoTheQuantisedBaseAndIntoAFullPrecisionCopy() {
        Path dir = tmp.resolve("qlora");
        float[] adapted;
        try (CausalLM base = Models.load(TestPaths.vectors("llama"))) {
            PeftModel model = Peft.apply(base, QLoRAConfig.builder().r(4).alpha(8).initLoraWeights("false").build());
            adapted = logits(base);
            model.save(dir);
            // merging into the 4-bit base dequantises, adds s·B·A and quantises again (rounding, as in PEFT)
            var q = base.linear("model.layers.0.self_attn.q_proj").base();
            float[] expected;
            try (NDManager m = base.manager().newSubManager()) {
                NDArray a = model.trainableParameters().get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
                NDArray b = model.trainableParameters().get("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight");
                NDArray sum = q.weight(m).add(m.zeros(new Shape()).add(b).matMul(a).mul(m.full(new Shape(), 2f)));
                expected = oneml.quant.Quantizer.quantize(sum.toFloatArray(), new long[] {32, 32}, base.quantization().config()).dequantizeToArray();
            }
            model.merge();
            try (NDManager m = base.manager().newSubManager()) {
                assertArrayEquals(expected, q.weight(m).toFloatArray(), 0f);
            }
            assertTrue(relativeRms(adapted, logits(base)) < 0.25, "merged into 4 bits: " + relativeRms(adapted, logits(base)));
            // the merged 4-bit model saves in bitsandbytes' layout and reloads to the same outputs
            float[] merged4bit = logits(base);
            Models.save(base, tmp.resolve("model"), oneml.io.StorageType.F32);
            try (CausalLM reloaded = Models.load(tmp.resolve("model"))) {
                assertTrue(reloaded.isQuantized());
                assertArrayEquals(merged4bit, logits(reloaded), 0f);
            }
        }
        // the same adapter on a float32 base, merged: the full-precision result QLoRA users ship
        try (CausalLM fp32 = Models.load(TestPaths.vectors("llama"))) {
            PeftModel model = Peft.load(fp32, dir);
            assertFalse(fp32.isQuantized(), "the base is taken as it is");
            assertTrue(model.toString().contains("trained on a 4-bit base (nf4, double quant"), model.toString());
            float[] unmerged = logits(fp32);
            CausalLM merged = model.mergeAndUnload();
            assertArrayEquals(unmerged, logits(merged), 1e-5f);
            assertTrue(relativeRms(adapted, unmerged) < 0.25, "4-bit base vs float32 base: " + relativeRms(adapted, unmerged));
        }
    }

    @Test
    void badQuantTypeIsClear() {
        var e = assertThrows(IllegalArgumentException.class, () -> QLoRAConfig.builder().quantType("int3"));
        assertTrue(e.getMessage().contains("nf4"), e.getMessage());
        assertTrue(QLoRAConfig.builder().r(64).alpha(16).build().toString().contains("quant_type=nf4"));
        assertEquals("LORA", QLoRAConfig.builder().build().peftType());
        assertTrue(LoRAConfig.builder().build().toString().startsWith("LoRAConfig("));
    }
}
