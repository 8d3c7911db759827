package oneml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import oneml.LoRAConfig;
import oneml.Models;
import oneml.Peft;
import oneml.TestPaths;
import oneml.peft.PeftModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run that crashes part-way and is resumed from its checkpoints ends exactly where an uninterrupted run ends: the
 * same trainable values, losses and validations, bit for bit (dropout on, so the random streams must line up too).
 * The real SIGKILL of a child JVM is in {@code oneml.cli.TrainResumeAfterKillTest}.
 */
class ResumeTest {
    private static final int STEPS = 10;

    private static PeftModel lora() {
        return Peft.apply(Models.load(TestPaths.vectors("llama")),
                LoRAConfig.builder().r(4).alpha(8).dropout(0.1).targetModules("q_proj", "v_proj").build(), 3);
    }

    private static TrainConfig.Builder config(Path run) {
        return TrainConfig.builder().steps(STEPS).batchSize(4).learningRate(5e-3).warmupSteps(2).evalEvery(3).seed(11)
                .checkpointEvery(2).checkpointsKept(2).outputDir(run);
    }

    private static final List<TokenizedExample> TRAIN = TrainerTest.counting(18, 10, 1); // 5 batches: epochs roll over
    private static final List<TokenizedExample> VALIDATION = TrainerTest.counting(6, 10, 2);

    private record Outcome(Map<String, float[]> values, TrainingRun run) {}

    private static Outcome train(TrainConfig config, List<TrainingListener> listeners) {
        try (PeftModel model = lora()) {
            TrainingRun run = new Trainer(model, TRAIN, VALIDATION, config, listeners).run();
            Map<String, float[]> values = new LinkedHashMap<>();
            model.trainableParameters().forEach((k, v) -> values.put(k, v.toFloatArray()));
            return new Outcome(values, run);
        }
    }

    /** Crashes the run right after step {@code at} (the way a kill would, without the JVM's death). */
    private static void crashAt(TrainConfig config, int at) {
        TrainingListener crash = new TrainingListener() {
            @Override
            public void onStep(StepMetrics step) {
                if (step.step() == at) {
                    throw new IllegalStateException("simulated crash");
                }
            }
        };
        assertThrows(IllegalStateException.class, () -> train(config, List.of(crash)));
    }

    private static void assertSame(Outcome expected, Outcome actual) {
        assertArrayEquals(expected.run().history().doubleColumn("loss").asDoubleArray(),
                actual.run().history().doubleColumn("loss").asDoubleArray(), 0.0, "loss curve");
        assertArrayEquals(expected.run().history().doubleColumn("grad_norm").asDoubleArray(),
                actual.run().history().doubleColumn("grad_norm").asDoubleArray(), 0.0, "gradient norms");
        assertArrayEquals(expected.run().evaluations().doubleColumn("val_loss").asDoubleArray(),
                actual.run().evaluations().doubleColumn("val_loss").asDoubleArray(), 0.0, "validation losses");
        assertEquals(expected.run().bestStep(), actual.run().bestStep());
        assertEquals(expected.run().tokensSeen(), actual.run().tokensSeen());
        assertEquals(expected.values().keySet(), actual.values().keySet());
        expected.values().forEach((k, v) -> assertArrayEquals(v, actual.values().get(k), 0f, k));
    }

    @Test
    void aResumedRunEqualsAnUninterruptedOne(@TempDir Path tmp) {
        Outcome whole = train(config(tmp.resolve("whole")).build(), List.of());
        Path crashed = tmp.resolve("crashed");
        crashAt(config(crashed).build(), 7);
        assertEquals(List.of("checkpoint-4", "checkpoint-6"), names(crashed), "the newest two are kept");

        Outcome resumed = train(config(null).resumeFrom(crashed).build(), List.of());
        assertSame(whole, resumed);
        assertTrue(resumed.run().message().startsWith("resumed from " + crashed.resolve("checkpoints").resolve("checkpoint-6").toAbsolutePath()),
                resumed.run().message());
        assertEquals(List.of("checkpoint-8", "checkpoint-10"), names(crashed), "the resumed run saves into the same folder");
    }

    @Test
    void aDamagedCheckpointIsSkippedForThePreviousOne(@TempDir Path tmp) throws Exception {
        Outcome whole = train(config(tmp.resolve("whole")).build(), List.of());
        Path crashed = tmp.resolve("crashed");
        crashAt(config(crashed).build(), 7);
        Path newest = crashed.resolve("checkpoints").resolve("checkpoint-6");
        byte[] bytes = Files.readAllBytes(newest.resolve(RunCheckpoint.OPTIMIZER));
        bytes[bytes.length - 3] ^= 0x40; // one flipped bit in a moment: still a well-formed file
        Files.write(newest.resolve(RunCheckpoint.OPTIMIZER), bytes);
        // and what a kill during a save leaves: a half-written folder under a dot-name, and one without its state file
        Files.createDirectories(crashed.resolve("checkpoints").resolve(".checkpoint-8-1.tmp"));
        Files.createDirectories(crashed.resolve("checkpoints").resolve("checkpoint-8"));
        Files.writeString(crashed.resolve("checkpoints").resolve("checkpoint-8").resolve(RunCheckpoint.TRAINABLE), "torn");

        List<String> notes = new java.util.ArrayList<>();
        TrainingListener listen = notesTo(notes);
        Outcome resumed = train(config(null).resumeFrom(crashed).build(), List.of(listen));
        assertSame(whole, resumed);
        assertEquals(3, notes.size(), notes.toString());
        assertTrue(notes.get(0).startsWith("skipped checkpoint-8, it is incomplete or damaged") && notes.get(0).contains("trainer_state.json is missing"),
                notes.get(0));
        assertTrue(notes.get(1).startsWith("skipped checkpoint-6, it is incomplete or damaged") && notes.get(1).contains("SHA-256"), notes.get(1));
        assertTrue(notes.get(2).contains("checkpoint-4 (step 4)"), notes.get(2));
        assertTrue(resumed.run().message().contains("skipped checkpoint-6"), resumed.run().message());
        assertEquals(List.of("checkpoint-8", "checkpoint-10"), names(crashed), "damaged and half-written folders are replaced and tidied");
    }

    @Test
    void aDamagedTrainerStateIsSkippedAndACopiedCheckpointResumes(@TempDir Path tmp) throws Exception {
        Outcome whole = train(config(tmp.resolve("whole")).build(), List.of());
        Path crashed = tmp.resolve("crashed");
        crashAt(config(crashed).build(), 7);
        Path copy = tmp.resolve("copied-checkpoint");
        Files.createDirectories(copy);
        try (var files = Files.list(crashed.resolve("checkpoints").resolve("checkpoint-4"))) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        Path state = crashed.resolve("checkpoints").resolve("checkpoint-6").resolve(RunCheckpoint.STATE);
        Files.writeString(state, Files.readString(state).replace("\"position\": ", "\"position\": 1")); // a flipped digit
        List<String> notes = new java.util.ArrayList<>();
        TrainingListener listen = notesTo(notes);
        assertSame(whole, train(config(null).resumeFrom(crashed).build(), List.of(listen)));
        assertTrue(notes.get(0).startsWith("skipped checkpoint-6") && notes.get(0).contains("SHA-256"), notes.toString());
        assertFalse(notes.get(0).contains("Exception") || notes.get(0).contains("gson"), notes.get(0));

        Outcome fromCopy = train(config(tmp.resolve("from-copy")).resumeFrom(copy).build(), List.of());
        assertSame(whole, fromCopy);
        assertTrue(fromCopy.run().message().contains("copied-checkpoint (step 4)"), fromCopy.run().message());
    }

    @Test
    void resumingFromOneCheckpointUsesThatOne(@TempDir Path tmp) {
        Outcome whole = train(config(tmp.resolve("whole")).checkpointsKept(5).build(), List.of());
        Path crashed = tmp.resolve("crashed");
        crashAt(config(crashed).checkpointsKept(5).build(), 9);
        Outcome resumed = train(config(tmp.resolve("elsewhere")).resumeFrom(crashed.resolve("checkpoints").resolve("checkpoint-4")).build(),
                List.of());
        assertSame(whole, resumed);
        assertTrue(resumed.run().message().contains("checkpoint-4 (step 4)"), resumed.run().message());
        assertTrue(Files.isDirectory(tmp.resolve("elsewhere").resolve("checkpoints").resolve("checkpoint-10")));
    }

    @Test
    void otherSettingsOrDataAreRefusedWithTheDifference(@TempDir Path tmp) {
        Path crashed = tmp.resolve("crashed");
        crashAt(config(crashed).build(), 3);
        var e = assertThrows(IllegalArgumentException.class,
                () -> train(config(null).learningRate(1e-3).batchSize(2).resumeFrom(crashed).build(), List.of()));
        assertTrue(e.getMessage().contains("batchSize was 4, now 2") && e.getMessage().contains("learningRate was 0.005, now 0.001"),
                e.getMessage());
        try (PeftModel model = lora()) {
            var data = assertThrows(IllegalArgumentException.class, () -> new Trainer(model, TrainerTest.counting(18, 10, 99), VALIDATION,
                    config(null).resumeFrom(crashed).build(), List.of()).run());
            assertTrue(data.getMessage().contains("the training data differs"), data.getMessage());
        }
        try (PeftModel otherAlpha = Peft.apply(Models.load(TestPaths.vectors("llama")),
                LoRAConfig.builder().r(4).alpha(16).dropout(0.1).targetModules("q_proj", "v_proj").build(), 3)) {
            var method = assertThrows(IllegalArgumentException.class, () -> new Trainer(otherAlpha, TRAIN, VALIDATION,
                    config(null).resumeFrom(crashed).build(), List.of()).run());
            assertTrue(method.getMessage().contains("method was LoRAConfig(r=4, alpha=8"), method.getMessage());
        }
        var validation = assertThrows(IllegalArgumentException.class, () -> {
            try (PeftModel model = lora()) {
                new Trainer(model, TRAIN, TrainerTest.counting(6, 10, 77), config(null).resumeFrom(crashed).build(), List.of()).run();
            }
        });
        assertTrue(validation.getMessage().contains("the validation data differs"), validation.getMessage());
        var fresh = assertThrows(IllegalArgumentException.class, () -> train(config(crashed).build(), List.of()));
        assertTrue(fresh.getMessage().contains("already holds checkpoints of an earlier run (checkpoint-2)"), fresh.getMessage());
        var none = assertThrows(IllegalArgumentException.class, () -> train(config(null).resumeFrom(tmp.resolve("empty")).build(), List.of()));
        assertTrue(none.getMessage().contains("no training checkpoint to resume from"), none.getMessage());
        var noFolder = assertThrows(IllegalArgumentException.class, () -> TrainConfig.builder().checkpointEvery(5).build());
        assertTrue(noFolder.getMessage().contains("outputDir"), noFolder.getMessage());
    }

    @Test
    void aCheckpointOfAnotherMethodIsNamedAsSuch(@TempDir Path tmp) {
        Path crashed = tmp.resolve("crashed");
        crashAt(config(crashed).build(), 3);
        try (PeftModel other = Peft.apply(Models.load(TestPaths.vectors("llama")),
                LoRAConfig.builder().r(4).alpha(8).targetModules("q_proj", "k_proj").build(), 3)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(other, TRAIN, VALIDATION, config(null).resumeFrom(crashed).build(), List.of()).run());
            assertTrue(e.getMessage().contains("not a trainable parameter of this model"), e.getMessage());
            assertFalse(e.getMessage().contains("Exception"), e.getMessage());
        }
    }

    /** A listener that keeps the run's notes (which checkpoint it resumed from, which it skipped and why). */
    private static TrainingListener notesTo(List<String> notes) {
        return new TrainingListener() {
            @Override
            public void onNote(String note) {
                notes.add(note);
            }
        };
    }

    private static List<String> names(Path run) {
        try (var list = Files.list(run.resolve("checkpoints"))) {
            return list.map(p -> p.getFileName().toString()).sorted(java.util.Comparator.comparingInt(n -> n.startsWith("checkpoint-")
                    ? Integer.parseInt(n.substring(11)) : -1)).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
