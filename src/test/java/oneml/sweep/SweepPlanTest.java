package oneml.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import oneml.LoRAConfig;
import oneml.PrefixTuningConfig;
import oneml.QLoRAConfig;
import oneml.compare.Comparison;
import oneml.compare.MethodResult;
import oneml.io.AtomicFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Table;

/** Plans (counts, ids, rejections), the spec file, and results' aggregates, all without training anything. */
class SweepPlanTest {

    @Test
    void aGridTimesSeedsIsTheProductAndEachTrialBuildsItsConfig() {
        SweepPlan plan = Sweep.tiny("sentiment")
                .add(Space.lora().r(4, 8, 16, 32).targetModules(List.of("q_proj", "v_proj"), List.of("q_proj", "k_proj", "v_proj"))
                        .learningRate(1e-3, 5e-3, 1e-2))
                .add(Space.qlora().r(8).quantType("nf4", "fp4"))
                .seeds(3).plan();
        assertEquals(4 * 2 * 3 * 3 + 2 * 3, plan.count());
        assertEquals(Map.of("lora", 72, "qlora", 6), plan.countsByName());
        assertEquals(plan.count(), new HashSet<>(plan.trials().stream().map(Trial::id).toList()).size(), "ids are unique");
        assertEquals(plan.count(), plan.table().rowCount());
        Trial t = plan.trials().stream().filter(x -> x.method().equals("lora") && x.config().get("r").equals(16)
                && ((List<?>) x.config().get("targetModules")).size() == 3 && x.learningRate() == 1e-2 && x.seed() == 44).findFirst().orElseThrow();
        LoRAConfig c = (LoRAConfig) t.peftConfig();
        assertEquals(16, c.r());
        assertEquals(16.0, c.alpha(), "alpha keeps the preset's value");
        assertEquals(List.of("q_proj", "k_proj", "v_proj"), c.targetModules());
        Trial q = plan.trials().stream().filter(x -> "fp4".equals(x.config().get("quantType"))).findFirst().orElseThrow();
        assertEquals("FP4", ((QLoRAConfig) q.peftConfig()).quant().type().name());
        assertEquals(60, q.steps(), "the sweep's steps when the space does not sweep them");
    }

    @Test
    void idsDependOnTheSettingsOnly() {
        Supplier<Sweep> sweep = () -> Sweep.tiny("sentiment").add(Space.lora().r(4, 8)).seeds(2);
        List<String> a = sweep.get().plan().trials().stream().map(Trial::id).toList();
        List<String> b = sweep.get().parallel(2).checkpointEvery(5).plan().trials().stream().map(Trial::id).toList();
        assertEquals(a, b, "where and how a trial runs is not part of its id");
        List<String> other = sweep.get().steps(61).plan().trials().stream().map(Trial::id).toList();
        assertTrue(other.stream().noneMatch(a::contains), "other steps, other trials");
        List<String> otherData = Sweep.tiny("topic").add(Space.lora().r(4, 8)).seeds(2).plan().trials().stream().map(Trial::id).toList();
        assertTrue(otherData.stream().noneMatch(a::contains), "other data, other trials");
        // the same settings written another way (a double for an int field, the preset's own alpha) are the same trial
        List<String> spelled = Sweep.tiny("sentiment").add(Space.lora().grid("r", 4.0, 8L).alpha(16)).seeds(2).plan().trials().stream()
                .map(Trial::id).toList();
        assertEquals(a, spelled);
    }

    @Test
    void badFieldsAndValuesAreRejectedByThePlanNamingWhatExists() {
        var e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").add(Space.lora().grid("rank", 4, 8)).plan());
        assertTrue(e.getMessage().contains("unknown field 'rank' for method lora") && e.getMessage().contains("[r, alpha, dropout")
                && e.getMessage().contains("learningRate"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Space.of("loraa"));
        assertTrue(e.getMessage().contains("unknown method 'loraa'") && e.getMessage().contains("qlora"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").add(Space.lora().r()).plan());
        assertTrue(e.getMessage().contains("field 'r' has no values"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").add(Space.lora().r(0, 8)).plan());
        assertTrue(e.getMessage().contains("lora field 'r' must be in [1, 4096], got 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").add(Space.lora().dropout(1.0)).plan());
        assertTrue(e.getMessage().contains("field 'dropout' must be in [0, 1), got 1.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").add(Space.lora().grid("r", 8.5)).plan());
        assertTrue(e.getMessage().contains("takes whole numbers, got 8.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").add(Space.lora().grid("r", List.of(4, 8))).plan());
        assertTrue(e.getMessage().contains("takes one value per grid point, got the list [4, 8]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").add(Space.lora().learningRate(-1e-3)).plan());
        assertTrue(e.getMessage().contains("field 'learningRate' must be in (0, 10]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").add(Space.qlora().quantType("int8")).plan());
        assertTrue(e.getMessage().contains("takes one of [nf4, fp4], got \"int8\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").add(Space.prompt().r(8)).plan());
        assertTrue(e.getMessage().contains("unknown field 'r' for method prompt; its fields are [numVirtualTokens]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").add(Space.lora().logUniform("learningRate", 1e-4, 1e-2)).plan());
        assertTrue(e.getMessage().contains("only a random sample can draw from: add .sample(n)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").add(Space.lora().r(4, 8).sample(3)).plan());
        assertTrue(e.getMessage().contains("more points than the grid has (2)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").plan());
        assertTrue(e.getMessage().contains("no spaces"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.tiny("sentiment").add(Space.lora(), Space.lora()).plan());
        assertTrue(e.getMessage().contains("two spaces are named 'lora'"), e.getMessage());
    }

    @Test
    void aCombinationTheConfigRefusesIsPlannedAsATrialThatCannotRun() {
        SweepPlan plan = Sweep.tiny("sentiment").add(Space.ia3().grid("feedforwardModules", List.of("up_proj"))
                .grid("targetModules", List.of("k_proj", "v_proj"), List.of("k_proj", "up_proj"))).plan();
        assertEquals(2, plan.count());
        assertTrue(plan.trials().get(0).problem().contains("must be a subset of target_modules"), plan.toString());
        assertNull(plan.trials().get(1).problem(), plan.toString());
        // such a trial's job runs without training: its result is a FAILED row with the reason, not retried
        Trial refused = plan.trials().get(0);
        String job = TrialProcess.job(new Setup(null, "sentiment", 0, 4, 4, 0), refused, Path.of("runs", refused.id())).toString();
        TrialResult r = TrialResult.fromJson(com.google.gson.JsonParser.parseString(TrialProcess.runJob(job)).getAsJsonObject());
        assertEquals(refused, r.trial());
        assertEquals(TrialResult.Status.FAILED, r.status());
        assertFalse(r.retryable());
        assertTrue(r.message().contains("must be a subset of target_modules"), r.message());
    }

    @Test
    void aRandomSampleIsSeededDistinctAndInsideItsRanges() {
        Supplier<Space> space = () -> Space.prefix().numVirtualTokens(5, 10, 20).grid("prefixProjection", false, true)
                .logUniform("learningRate", 1e-2, 3e-1).sample(6, 7);
        SweepPlan a = Sweep.tiny("sentiment").add(space.get()).plan();
        SweepPlan b = Sweep.tiny("sentiment").add(space.get()).plan();
        assertEquals(6, a.count());
        assertEquals(a.trials().stream().map(Trial::id).toList(), b.trials().stream().map(Trial::id).toList(), "the same seed, the same sample");
        for (Trial t : a.trials()) {
            assertTrue(t.learningRate() >= 1e-2 && t.learningRate() <= 3e-1, t.toString());
            assertTrue(List.of(5, 10, 20).contains(((PrefixTuningConfig) t.peftConfig()).numVirtualTokens()), t.toString());
        }
        SweepPlan c = Sweep.tiny("sentiment").add(space.get().sample(6, 8)).plan();
        assertNotEquals(a.trials().stream().map(Trial::id).toList(), c.trials().stream().map(Trial::id).toList(), "another seed, another sample");
    }

    @Test
    void theSpecFileRoundTripsAndItsMistakesNameTheFile(@TempDir Path tmp) {
        Sweep sweep = Sweep.tiny("sentiment").add(Space.lora().r(4, 8).targetModules(List.of("q_proj", "v_proj")).learningRate(1e-3),
                Space.prefix().name("prefix-lr").logUniform("learningRate", 1e-2, 3e-1).sample(3)).seeds(2).steps(7).evalLimit(5);
        Path spec = tmp.resolve("spec.json");
        AtomicFiles.writeString(spec, sweep.toJson());
        SweepPlan again = Sweep.load(spec).plan();
        assertEquals(sweep.plan().trials(), again.trials());

        Path example = Path.of("examples/sweeps/lora-rank-targets.json");
        assertTrue(Files.isRegularFile(example), "the documented example spec is in the repository");
        assertTrue(Sweep.load(example).plan().count() > 0);

        AtomicFiles.writeString(spec, "{\"data\": \"sentiment\", \"spaces\": [{\"method\": \"lora\", \"grid\": {\"r\": [4]}}], \"step\": 5}");
        var e = assertThrows(IllegalArgumentException.class, () -> Sweep.load(spec));
        assertTrue(e.getMessage().contains(spec.toString()) && e.getMessage().contains("unknown key \"step\"")
                && e.getMessage().contains("steps") && e.getMessage().contains("examples/sweeps/README.md"), e.getMessage());
        AtomicFiles.writeString(spec, "{\"spaces\": [{\"method\": \"lora\", \"grid\": {\"targetModules\": [[\"q_proj\", 3]]}}]}");
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.load(spec).plan());
        assertTrue(e.getMessage().contains("field 'targetModules' takes lists of module names"), e.getMessage());
        AtomicFiles.writeString(spec, "{\"spaces\": [");
        e = assertThrows(IllegalArgumentException.class, () -> Sweep.load(spec));
        assertTrue(e.getMessage().contains(spec.toString()) && e.getMessage().contains("not valid JSON"), e.getMessage());
    }

    @Test
    void resultsAggregateOverSeedsPickTheBestAndReload(@TempDir Path tmp) {
        SweepPlan plan = Sweep.tiny("sentiment").add(Space.lora().r(4, 8), Space.ia3()).seeds(3).plan();
        // made-up measurements, so the expected means and deviations follow by construction
        double[] losses = {1.0, 2.0, 3.0, 0.5, 0.7, 0.9, 2.0, 2.0, 2.0};
        List<TrialResult> results = new java.util.ArrayList<>();
        for (int i = 0; i < plan.count(); i++) {
            Trial t = plan.trials().get(i);
            if (i == 8) {
                results.add(TrialResult.failed(t, "its JVM exited with code 137", "h", 9, 1.0, true));
                continue;
            }
            MethodResult r = new MethodResult(t.name(), "label", MethodResult.Status.OK, "", t.learningRate(), 100 + i, 1000, 400, 32, 4000,
                    5_000_000, 2.0, 1000 + i, t.steps(), losses[i] + 0.1, losses[i] + 0.2, losses[i], 0.1 * i,
                    Table.create("curve", DoubleColumn.create("step", new double[] {1, 2}), DoubleColumn.create("loss", new double[] {3, 2})),
                    Table.create("validations", DoubleColumn.create("step", new double[] {2}), DoubleColumn.create("val_loss", new double[] {losses[i]})),
                    0.05);
            results.add(new TrialResult(t, r, "h", i, 3.0, false));
        }
        SweepResult result = new SweepResult("oneml-tiny", "sentiment", results);
        assertEquals(9, result.table().rowCount());
        assertEquals(1, result.failedCount());
        Table agg = result.aggregates();
        assertEquals(3, agg.rowCount());
        assertEquals(2.0, agg.doubleColumn("best_val_loss_mean").get(0), 1e-12);
        assertEquals(1.0, agg.doubleColumn("best_val_loss_std").get(0), 1e-12);
        assertEquals(0.7, agg.doubleColumn("best_val_loss_mean").get(1), 1e-12);
        assertEquals(0.2, agg.doubleColumn("best_val_loss_std").get(1), 1e-12);
        assertEquals(List.of(3, 3, 2), agg.intColumn("n").asList());
        assertEquals(List.of(0, 0, 1), agg.intColumn("failed").asList());
        Table best = result.best("best_val_loss");
        assertEquals(2, best.rowCount(), "one row per space");
        assertEquals(8.0, best.doubleColumn("r").get(0), "r=8 has the lower mean loss");
        assertEquals(1, result.best("accuracy").rowCount() - 1);
        assertEquals(8.0, result.best("accuracy").doubleColumn("r").get(0), "higher accuracy wins");
        var e = assertThrows(IllegalArgumentException.class, () -> result.best("loss"));
        assertTrue(e.getMessage().contains("choose from [best_val_loss"), e.getMessage());

        Comparison c = result.toComparison("best_val_loss");
        assertEquals(List.of("lora", "ia3"), c.results().stream().map(MethodResult::name).toList());
        assertEquals(0.5, c.result("lora").bestValLoss(), 1e-12, "the best configuration's first seed");
        assertTrue(c.result("lora").label().contains("r=8") && !c.result("lora").label().contains("seed"), c.result("lora").label());

        result.save(tmp);
        assertTrue(Files.isRegularFile(tmp.resolve(SweepResult.CSV)));
        SweepResult back = SweepResult.load(tmp);
        assertEquals(result.table().write().toString("csv"), back.table().write().toString("csv"));
        assertEquals(result.trials().get(8).trial(), back.trials().get(8).trial());
        assertTrue(back.trials().get(8).retryable());
        assertFalse(back.trials().get(0).retryable());
    }
}
