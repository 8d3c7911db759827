package oneml.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The promise of {@code --checkpoint-every}: a training JVM killed with SIGKILL at a random moment, then resumed with
 * {@code --resume}, ends with the same adapter file and the same loss curve, bit for bit, as a run never killed.
 */
class TrainResumeAfterKillTest {
    private static final int STEPS = 24;

    private static List<String> command(Path out, String... more) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xss4m", "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "train", "--data", "sentiment", "--method", "lora", "--r", "4", "--alpha", "8", "--dropout", "0.1",
                "--steps", String.valueOf(STEPS), "--batch-size", "8", "--lr", "2e-3", "--warmup-steps", "3", "--eval-every", "6",
                "--eval-limit", "4", "--seed", "5", "--checkpoint-every", "4", "--out", out.toString()));
        cmd.addAll(List.of(more));
        return cmd;
    }

    private static Process start(List<String> command, Path log) throws Exception {
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static String finish(Process p, Path log) throws Exception {
        assertTrue(p.waitFor(8, TimeUnit.MINUTES), "training child did not finish in 8 minutes");
        String text = Files.readString(log);
        assertEquals(0, p.exitValue(), text);
        return text;
    }

    @Test
    void aRunKilledAtARandomMomentResumesToTheSameResult(@TempDir Path tmp) throws Exception {
        Path whole = tmp.resolve("whole");
        Path killed = tmp.resolve("killed");
        // both children run at once: the kill lands while the machine is as busy as it gets here
        Process reference = start(command(whole), tmp.resolve("whole.log"));
        Process victim = start(command(killed), tmp.resolve("killed.log"));

        // kill once at least two checkpoints exist, at a random moment within the next four steps' time (measured as the
        // time between the first two checkpoints), so perhaps inside a save, and always well before the last step
        long first = awaitCheckpoint(killed, 4, victim);
        long second = awaitCheckpoint(killed, 8, victim);
        long seed = System.nanoTime();
        Thread.sleep(new Random(seed).nextInt((int) Math.max(1, (second - first) / 1_000_000)));
        assertTrue(victim.isAlive(), "the run ended before it could be killed (delay seed " + seed + ")");
        victim.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
        victim.waitFor();
        assertTrue(!Files.exists(killed.resolve("adapter_model.safetensors")), "a killed run saves no final adapter");

        String log = finish(start(command(killed, "--resume", killed.toString()), tmp.resolve("resumed.log")), tmp.resolve("resumed.log"));
        finish(reference, tmp.resolve("whole.log"));
        assertTrue(log.contains("resumed from " + killed.resolve("checkpoints").toAbsolutePath()), log);

        assertArrayEquals(Files.readAllBytes(whole.resolve("adapter_model.safetensors")), Files.readAllBytes(killed.resolve("adapter_model.safetensors")),
                "the final adapter equals the uninterrupted run's (delay seed " + seed + ")\n" + log);
        JsonObject a = state(whole);
        JsonObject b = state(killed);
        for (String column : List.of("loss", "grad_norm", "learning_rate", "tokens")) {
            assertEquals(array(a, "history", column), array(b, "history", column), column + " (delay seed " + seed + ")");
        }
        assertEquals(array(a, "evaluations", "val_loss"), array(b, "evaluations", "val_loss"));
        assertEquals(STEPS, array(b, "history", "loss").size());
    }

    /** Waits until the run's checkpoint of {@code step} exists; returns when (System.nanoTime). */
    private static long awaitCheckpoint(Path run, int step, Process child) throws Exception {
        Path dir = run.resolve("checkpoints").resolve("checkpoint-" + step);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (!Files.isDirectory(dir) && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(child.isAlive() && Files.isDirectory(dir), "the run did not reach checkpoint-" + step + " alive");
        return System.nanoTime();
    }

    private static JsonObject state(Path run) throws Exception {
        Path file = run.resolve("checkpoints").resolve("checkpoint-" + STEPS).resolve("trainer_state.json");
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject().getAsJsonObject("progress");
    }

    private static JsonArray array(JsonObject progress, String table, String column) {
        return progress.getAsJsonObject(table).getAsJsonArray(column);
    }
}
