package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import oneml.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./oneml kernel install}: where the kernelspec goes (--prefix, --user honouring JUPYTER_DATA_DIR) and what it runs. */
class KernelInstallTest {

    @Test
    void installsIntoAPrefix(@TempDir Path tmp) throws Exception {
        assertEquals(0, Main.run("kernel", "install", "--prefix", tmp.toString(), "--name", "oneml-x",
                "--classpath", "/opt/x.jar", "--jvm-option=-Xmx3g"));
        Path json = tmp.resolve("share/jupyter/kernels/oneml-x/kernel.json");
        assertTrue(Files.isRegularFile(json));
        JsonObject spec = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        String argv = spec.getAsJsonArray("argv").toString();
        assertTrue(argv.contains("\"/opt/x.jar\"") && argv.contains("-Xmx3g") && argv.contains("{connection_file}"), argv);
        assertTrue(argv.contains("-Doneml.home="), argv);
        assertEquals("message", spec.get("interrupt_mode").getAsString());
        assertEquals("Java (oneml)", spec.get("display_name").getAsString());

        assertEquals(2, Main.run("kernel", "install", "--user", "--prefix", tmp.toString()));
        assertEquals(2, Main.run("kernel", "install", "--prefix", tmp.toString(), "--name", "no spaces", "--classpath", "x"));
    }

    @Test
    void userInstallHonoursJupyterDataDir(@TempDir Path tmp) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        JupyterSupport.Result r = JupyterSupport.run(List.of(java.toString(), "-cp", JupyterSupport.testClasspath(), "oneml.cli.Main",
                        "kernel", "install", "--user", "--classpath", "/opt/x.jar"),
                Map.of("JUPYTER_DATA_DIR", tmp.resolve("data").toString()), JupyterSupport.projectDir(), 120);
        assertEquals(0, r.exit(), r.output());
        assertTrue(Files.isRegularFile(tmp.resolve("data/kernels/java/kernel.json")), r.output());
    }
}
