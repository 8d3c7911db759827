package oneml.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs the notebooks' JShell twins (notebooks/jsh/*.jsh) headless, the way {@code ./oneml shell SCRIPT} does
 * ({@link ShellCommand}: jshell with the class path, {@code -R-Xss4m -R-Dai.djl.offline=true}, the DEFAULT startup
 * plus oneml's imports), and checks that each exits 0, printed its last line ("NAME: done", so no snippet was
 * skipped by an error) and reported no JShell error or exception (jshell carries on after a failing snippet and
 * still exits 0, so the exit status alone proves little).
 */
class JshScriptsTest {
    static final Path SCRIPTS = Path.of("notebooks", "jsh");
    static final java.util.regex.Pattern ERROR_LINE = java.util.regex.Pattern.compile("^(\\|\\s+)?(Error:|Exception |Caused by: )");

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

    static Stream<String> scripts() throws IOException {
        try (Stream<Path> files = Files.list(projectDir().resolve(SCRIPTS))) {
            List<String> names = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".jsh")).sorted().toList();
            assertFalse(names.isEmpty(), "no .jsh scripts in " + SCRIPTS);
            return names.stream();
        }
    }

    /** target/classes and every dependency jar (unwrapping surefire's manifest-only jar if it uses one). */
    static String classPath() throws IOException {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        String[] entries = cp.split(File.pathSeparator);
        if (entries.length == 1 && Path.of(entries[0]).getFileName().toString().startsWith("surefirebooter")) {
            try (JarFile jar = new JarFile(entries[0])) {
                List<String> real = new ArrayList<>();
                for (String url : jar.getManifest().getMainAttributes().getValue("Class-Path").split(" ")) {
                    if (!url.isBlank()) {
                        real.add(Path.of(URI.create(url)).toString());
                    }
                }
                return String.join(File.pathSeparator, real);
            }
        }
        return cp;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scripts")
    void scriptRunsHeadless(String name, @TempDir Path tmp) throws Exception {
        Path project = projectDir();
        Path script = project.resolve(SCRIPTS).resolve(name);
        List<String> lines = Files.readAllLines(script);
        assertEquals("/exit", lines.get(lines.size() - 1).strip(), name + " must end with /exit, or jshell waits for input");
        String base = name.substring(0, name.length() - ".jsh".length());
        assertTrue(Files.isRegularFile(project.resolve("notebooks").resolve(base + ".ipynb")), name + " has no notebook twin");

        Path startup = tmp.resolve("oneml-startup.jsh");
        Files.writeString(startup, ShellCommand.IMPORTS);
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        List<String> command = List.of(Files.isExecutable(jshell) ? jshell.toString() : "jshell",
                "--class-path", classPath(), "-R-Xss4m", "-R-Dai.djl.offline=true",
                "--startup", "DEFAULT", "--startup", startup.toString(), script.toString());
        Process p = new ProcessBuilder(command).directory(project.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (var in = p.getInputStream()) {
                byte[] buf = new byte[8192];
                for (int n; (n = in.read(buf)) > 0; ) {
                    String s = new String(buf, 0, n, StandardCharsets.UTF_8);
                    System.out.print(s);
                    synchronized (out) {
                        out.append(s);
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        reader.start();
        long t0 = System.nanoTime();
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail(name + " did not finish in 600 s; output:\n" + out);
        }
        reader.join(5000);
        System.out.printf("jshell %s: %.1f s%n", name, (System.nanoTime() - t0) / 1e9);
        String output;
        synchronized (out) {
            output = out.toString();
        }
        assertEquals(0, p.exitValue(), name + " exited " + p.exitValue() + ":\n" + output);
        // jshell reports a snippet that does not compile as "Error:" and one that throws as "Exception ..." (with a "|  "
        // prefix in the interactive feedback modes), then goes on with the next snippet
        List<String> problems = output.lines().filter(l -> ERROR_LINE.matcher(l).find()).toList();
        assertTrue(problems.isEmpty(), name + ": snippets failed " + problems + ":\n" + output);
        assertTrue(output.lines().anyMatch(l -> l.strip().equals(base + ": done")), name + " did not reach its end:\n" + output);
        if (base.startsWith("01-")) {
            assertTrue(output.lines().anyMatch(l -> l.startsWith("trainable params: ")), "no PEFT parameter summary:\n" + output);
        }
    }
}
