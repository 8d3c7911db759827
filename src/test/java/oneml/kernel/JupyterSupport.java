package oneml.kernel;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * What the Jupyter-driven tests share: finding Python's Jupyter (and failing, not skipping, with the fix when it
 * is missing), a kernelspec for the freshly built classes in a private JUPYTER_PATH, and running a process with
 * a time limit.
 */
final class JupyterSupport {
    static final Path PYTHON = Path.of("/usr/bin/python3");
    static final String INSTALL_HINT = "Jupyter is not installed: run environment/install.sh --with-jupyter "
            + "(Debian packages jupyter-notebook jupyter-nbconvert python3-nbclient python3-jupyter-kernel-test "
            + "jupyter-client; .ci/run installs them)";

    private JupyterSupport() {}

    static Path projectDir() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isRegularFile(p.resolve("pom.xml"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("no pom.xml above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    /** Fails with {@link #INSTALL_HINT} unless /usr/bin/python3 has the Jupyter modules and {@code jupyter} runs. */
    static void requireJupyter(boolean nbconvert) throws Exception {
        if (!Files.isExecutable(PYTHON)) {
            fail(INSTALL_HINT + " (no " + PYTHON + ")");
        }
        Result r = run(List.of(PYTHON.toString(), "-c", "import jupyter_client, jupyter_kernel_test"
                + (nbconvert ? ", nbclient, nbconvert" : "")), Map.of(), projectDir(), 60);
        if (r.exit != 0) {
            fail(INSTALL_HINT + "\n" + r.output);
        }
        if (nbconvert && jupyter() == null) {
            fail(INSTALL_HINT + " (no jupyter command on PATH or in /usr/bin)");
        }
    }

    static String jupyter() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.add("/usr/bin");
        for (String d : dirs) {
            if (!d.isBlank() && Files.isExecutable(Path.of(d, "jupyter"))) {
                return Path.of(d, "jupyter").toString();
            }
        }
        return null;
    }

    /** The test JVM's class path (target/classes, target/test-classes, every dependency jar), as one string. */
    static String testClasspath() throws IOException {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        String[] entries = cp.split(File.pathSeparator);
        if (entries.length == 1 && Path.of(entries[0]).getFileName().toString().startsWith("surefirebooter")) {
            // surefire's manifest-only jar: its Class-Path lists the real entries
            try (JarFile jar = new JarFile(entries[0])) {
                Manifest m = jar.getManifest();
                List<String> real = new ArrayList<>();
                for (String url : m.getMainAttributes().getValue("Class-Path").split(" ")) {
                    if (!url.isBlank()) {
                        real.add(Path.of(URI.create(url)).toString());
                    }
                }
                return String.join(File.pathSeparator, real);
            }
        }
        return cp;
    }

    /** A kernelspec NAME under {@code jupyterPath/kernels} that runs the kernel from the test class path. */
    static Path installTestKernel(Path jupyterPath, String name) throws IOException {
        KernelSpec spec = KernelSpec.of(name, "Java (oneml, test build)", testClasspath(), projectDir(), List.of("-Xmx2g"));
        return spec.installInto(jupyterPath.resolve("kernels"));
    }

    /** Environment that keeps Jupyter inside {@code dir}: kernelspecs, runtime files, config, data. */
    static Map<String, String> jupyterEnv(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("runtime"));
        Files.createDirectories(dir.resolve("config"));
        return Map.of(
                "JUPYTER_PATH", dir.toString(),
                "JUPYTER_RUNTIME_DIR", dir.resolve("runtime").toString(),
                "JUPYTER_CONFIG_DIR", dir.resolve("config").toString(),
                "JUPYTER_DATA_DIR", dir.resolve("data").toString(),
                "JUPYTER_PLATFORM_DIRS", "1",
                "PYTHONDONTWRITEBYTECODE", "1");
    }

    record Result(int exit, String output, double seconds) {}

    /** Runs a command (stdout and stderr merged, also echoed to this JVM's stdout) and waits at most {@code timeoutS}. */
    static Result run(List<String> command, Map<String, String> env, Path dir, long timeoutS) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        Process p = pb.start();
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (var in = p.getInputStream()) {
                byte[] buf = new byte[8192];
                int n;
                while ((n = in.read(buf)) > 0) {
                    String s = new String(buf, 0, n, StandardCharsets.UTF_8);
                    synchronized (out) {
                        out.append(s);
                    }
                }
            } catch (IOException ignored) {
                // process ended
            }
        });
        reader.start();
        if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            reader.join(5000);
            fail(String.join(" ", command) + " did not finish in " + timeoutS + " s; output:\n" + out);
        }
        reader.join(5000);
        synchronized (out) {
            return new Result(p.exitValue(), out.toString(), (System.nanoTime() - t0) / 1e9);
        }
    }
}
