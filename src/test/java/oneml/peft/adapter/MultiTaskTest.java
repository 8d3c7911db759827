package oneml.peft.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import oneml.AdapterConfig;
import oneml.Models;
import oneml.Train;
import oneml.data.Datasets;
import oneml.data.TextDataset;
import oneml.model.CausalLM;
import oneml.peft.PeftModel;
import oneml.train.Evaluator;
import oneml.train.StopReason;
import oneml.train.TokenizedExample;
import oneml.train.TrainConfig;
import oneml.train.Trainer;
import oneml.train.TrainingRun;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One frozen base, one adapter per task: each trained alone, each saved in its own folder, switched and combined. */
class MultiTaskTest {
    @TempDir
    Path tmp;

    private static final List<String> TASKS = List.of("up", "down", "skip");

    @Test
    void oneAdapterPerSyntheticTaskOnTheReferenceLlama() {
        AdapterConfig config = AdapterConfig.houlsby().toBuilder().reductionFactor(4).build();
        Map<String, List<TokenizedExample>> validation = new LinkedHashMap<>();
        TASKS.forEach(t -> validation.put(t, Fixtures.task(t, 16, 12, 100 + t.length())));
        double[][] loss = new double[TASKS.size() + 1][TASKS.size()]; // rows: adapter (last: none); columns: task
        Map<String, float[]> logits = new LinkedHashMap<>();
        try (CausalLM base = Models.load(oneml.TestPaths.vectors("llama")); NDManager m = base.manager().newSubManager()) {
            for (int j = 0; j < TASKS.size(); j++) {
                loss[TASKS.size()][j] = Evaluator.loss(base, validation.get(TASKS.get(j)), 8);
            }
            PeftModel model = null;
            for (int i = 0; i < TASKS.size(); i++) {
                String task = TASKS.get(i);
                if (model == null) {
                    model = PeftModel.create(base, config, task, 7);
                } else {
                    model.addAdapter(task, config, 7 + i);
                }
                model.setAdapter(task);
                TrainConfig tc = TrainConfig.builder().steps(40).batchSize(8).learningRate(1e-2).evalEvery(20).seed(i).build();
                TrainingRun run = new Trainer(model, Fixtures.task(task, 64, 12, i), validation.get(task), tc, List.of()).run();
                assertEquals(StopReason.COMPLETED, run.stopReason(), run.message());
            }
            for (int i = 0; i < TASKS.size(); i++) {
                model.setAdapter(TASKS.get(i));
                logits.put(TASKS.get(i), Fixtures.logits(base, m));
                for (int j = 0; j < TASKS.size(); j++) {
                    loss[i][j] = Evaluator.loss(base, validation.get(TASKS.get(j)), 8);
                }
            }
            StringBuilder table = new StringBuilder("[adapter] validation loss, adapter (row) x task (column) " + TASKS + "\n");
            for (int i = 0; i <= TASKS.size(); i++) {
                table.append(String.format(Locale.ROOT, "  %-6s", i < TASKS.size() ? TASKS.get(i) : "base"));
                for (double v : loss[i]) {
                    table.append(String.format(Locale.ROOT, " %7.3f", v));
                }
                table.append('\n');
            }
            model.compose(Compose.average("up", "skip"));
            table.append(String.format(Locale.ROOT, "  Average[up, skip] on up %.3f, on skip %.3f%n",
                    Evaluator.loss(base, validation.get("up"), 8), Evaluator.loss(base, validation.get("skip"), 8)));
            System.out.print(table);
            for (int j = 0; j < TASKS.size(); j++) {
                assertTrue(loss[j][j] < loss[TASKS.size()][j] - 0.3, "adapter " + TASKS.get(j) + " learns its task\n" + table);
                for (int i = 0; i < TASKS.size(); i++) {
                    if (i != j) {
                        assertTrue(loss[j][j] < loss[i][j], "on task " + TASKS.get(j) + " its own adapter beats " + TASKS.get(i) + "\n" + table);
                    }
                }
            }
            model.save(tmp); // no "default" adapter: each goes to tmp/NAME
        }
        for (String task : TASKS) {
            assertTrue(Files.isRegularFile(tmp.resolve(task).resolve("adapter_model.safetensors")), task);
        }
        try (CausalLM base = Models.load(oneml.TestPaths.vectors("llama")); NDManager m = base.manager().newSubManager()) {
            PeftModel loaded = PeftModel.load(base, tmp.resolve("up"));
            loaded.loadAdapter(tmp.resolve("down"), "down").loadAdapter(tmp.resolve("skip"), "skip");
            assertArrayEquals(logits.get("up"), Fixtures.logits(base, m), 0f, "up");
            for (String task : List.of("down", "skip")) {
                loaded.setAdapter(task);
                assertArrayEquals(logits.get(task), Fixtures.logits(base, m), 0f, task);
            }
            var all = Compose.parallel("default", "down", "skip");
            loaded.compose(all);
            var parts = all.split(base.forward(m.create(Fixtures.IDS, new ai.djl.ndarray.types.Shape(2, 8))));
            assertArrayEquals(logits.get("up"), parts.get("default").toFloatArray(), 1e-5f);
            assertArrayEquals(logits.get("skip"), parts.get("skip").toFloatArray(), 1e-5f);
        }
    }

    /** The embedded default's three tasks, when the pretrained tiny model is present (the lead builds it). */
    @Test
    void oneAdapterPerTaskOnTheEmbeddedModel() throws Exception {
        Assumptions.assumeTrue(tinyModelExists(), "models/oneml-tiny is not built yet");
        Map<String, TextDataset> tasks = new LinkedHashMap<>();
        tasks.put("sentiment", Datasets.sentiment());
        tasks.put("facts", Datasets.facts());
        tasks.put("topic", Datasets.topic());
        try (CausalLM base = Models.tiny()) {
            PeftModel model = null;
            Map<String, Double> untrainedLoss = new LinkedHashMap<>();
            StringBuilder report = new StringBuilder("[adapter] oneml-tiny, one Pfeiffer adapter (rf=16) per task:\n");
            for (var e : tasks.entrySet()) {
                if (model == null) {
                    model = PeftModel.create(base, AdapterConfig.pfeiffer(), e.getKey(), 42);
                } else {
                    model.addAdapter(e.getKey(), AdapterConfig.pfeiffer());
                }
                model.setAdapter(e.getKey()); // a new adapter is the identity, so this is the base model's loss
                double untrained = Math.log(oneml.Eval.perplexity(base, e.getValue().validation()));
                untrainedLoss.put(e.getKey(), untrained);
                TrainingRun run = Train.of(model, e.getValue()).steps(40).batchSize(16).learningRate(5e-3).warmupSteps(5).evalEvery(20).quiet().run();
                report.append(String.format(Locale.ROOT, "  %-9s validation loss %.3f -> %.3f%n", e.getKey(), untrained, run.bestValidationLoss()));
                assertEquals(StopReason.COMPLETED, run.stopReason(), run.message());
                assertTrue(run.bestValidationLoss() < untrained, report.toString());
            }
            System.out.print(report);
            for (String task : tasks.keySet()) { // switching back finds each adapter as it was trained
                model.setAdapter(task);
                double loss = Math.log(oneml.Eval.perplexity(base, tasks.get(task).validation()));
                assertTrue(loss < untrainedLoss.get(task), task + " adapter after switching back: " + loss + "\n" + report);
            }
        }
    }

    private static boolean tinyModelExists() {
        try {
            return Files.isRegularFile(oneml.io.ProjectHome.find(Models.TINY_PATH).resolve("config.json"));
        } catch (IllegalStateException e) {
            return false;
        }
    }
}
