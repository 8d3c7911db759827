package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training in a notebook cell over the Jupyter protocol (src/test/python/test_live_training.py): the live loss
 * chart arrives as display_data with image/png and is then updated in place, throttled; interrupting a training
 * cell ends it after the step in flight with a readable message, and the kernel and the model go on working.
 * Needs Jupyter (fails with the command that installs it when it is missing) and the embedded model.
 */
class LiveTrainingTest {
    static final String KERNEL = "oneml-live-training";

    @Test
    void liveChartAndInterruptOverTheProtocol(@TempDir Path tmp) throws Exception {
        JupyterSupport.requireJupyter(false);
        if (!Files.isDirectory(JupyterSupport.projectDir().resolve("models/oneml-tiny"))) {
            fail("the embedded model models/oneml-tiny is missing (see models/ and README: oneml.train.Pretrain rebuilds it)");
        }
        JupyterSupport.installTestKernel(tmp, KERNEL);
        Map<String, String> env = new HashMap<>(JupyterSupport.jupyterEnv(tmp));
        env.put("ONEML_KERNEL_NAME", KERNEL);
        Path tests = JupyterSupport.projectDir().resolve("src/test/python");
        JupyterSupport.Result r = JupyterSupport.run(
                List.of(JupyterSupport.PYTHON.toString(), "-m", "unittest", "-v", "test_live_training"), env, tests, 600);
        System.out.printf("live training tests: %.1f s%n", r.seconds());
        assertEquals(0, r.exit(), "test_live_training failed:\n" + r.output());
        assertTrue(r.output().contains("OK"), r.output());
    }
}
