package oneml.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import oneml.io.AtomicFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./oneml sweep}'s plan and errors, which come before anything trains (LocalSweepTest runs real sweeps). */
class SweepCommandTest {
    @TempDir
    Path tmp;

    @Test
    void theBuiltInExampleIsPlannedWithoutRunning() {
        CliTest.Result r = CliTest.run("sweep", "--plan", "--out", tmp.resolve("out").toString());
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("Sweep plan: 8 trials (8 lora), 2 seeds each"), r.output());
        assertFalse(Files.exists(tmp.resolve("out")), "--plan runs nothing and writes nothing");
    }

    @Test
    void badSpecsAndBackendsAreOneLineErrorsBeforeAnyTraining() {
        Path spec = tmp.resolve("spec.json");
        AtomicFiles.writeString(spec, "{\"spaces\": [{\"method\": \"lora\", \"grid\": {\"rank\": [4, 8]}}]}");
        CliTest.Result r = CliTest.run("sweep", "--spec", spec.toString(), "--out", tmp.resolve("out").toString());
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().contains("error: " + spec + ": unknown field 'rank' for method lora; its fields are [r, alpha"), r.output());
        assertFalse(Files.exists(tmp.resolve("out")));
        r = CliTest.run("sweep", "--backend", "hadoop", "--plan");
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().contains("unknown backend 'hadoop': use --backend local"), r.output());
        r = CliTest.run("sweep", "--backend", "spark", "--master", "spark//127.0.0.1:7077", "--plan");
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().contains("'spark//127.0.0.1:7077' is not a Spark master URL: use local[N]"), r.output());
        r = CliTest.run("sweep", "--master", "local[2]", "--plan");
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().contains("--master and --conf are for --backend spark"), r.output());
        r = CliTest.run("sweep", "--backend", "spark", "--conf", "task.cpus=2", "--plan");
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().contains("'task.cpus' is not a Spark setting"), r.output());
        // a master nobody listens on: refused before anything is written or trained
        int port;
        try (var s = new ServerSocket(0)) {
            port = s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        r = CliTest.run("sweep", "--backend", "spark", "--master", "spark://127.0.0.1:" + port, "--out", tmp.resolve("out").toString());
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().contains("cannot reach the Spark master spark://127.0.0.1:" + port), r.output());
        assertFalse(Files.exists(tmp.resolve("out")));
    }
}
