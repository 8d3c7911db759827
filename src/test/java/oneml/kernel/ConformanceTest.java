package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official Jupyter conformance suite (jupyter_kernel_test, every message schema-checked) plus oneml's own
 * protocol checks (src/test/python/test_kernel_conformance.py), run against a kernelspec for the classes this
 * build just compiled. Needs Jupyter: fails, with the command that installs it, when it is missing.
 */
class ConformanceTest {
    static final String KERNEL = "oneml-conformance";

    @Test
    void jupyterKernelTestSuitePasses(@TempDir Path tmp) throws Exception {
        JupyterSupport.requireJupyter(false);
        JupyterSupport.installTestKernel(tmp, KERNEL);
        Map<String, String> env = new HashMap<>(JupyterSupport.jupyterEnv(tmp));
        env.put("ONEML_KERNEL_NAME", KERNEL);
        Path tests = JupyterSupport.projectDir().resolve("src/test/python");
        JupyterSupport.Result r = JupyterSupport.run(
                List.of(JupyterSupport.PYTHON.toString(), "-m", "unittest", "-v", "test_kernel_conformance"), env, tests, 600);
        System.out.println(r.output());
        System.out.printf("conformance suite: %.1f s%n", r.seconds());
        assertEquals(0, r.exit(), "jupyter_kernel_test failed:\n" + r.output());
        assertTrue(r.output().contains("OK"), r.output());
    }
}
