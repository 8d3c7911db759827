package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.ToolProvider;
import org.dflib.jjava.jupyter.kernel.ReplacementOptions;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kernel's evaluation, code intelligence, magics and rendering, in process (no Jupyter needed). */
class OnemlKernelTest {
    static OnemlKernel kernel;

    @BeforeAll
    static void start() {
        kernel = OnemlKernel.builder().synchronous().build();
        kernel.onStartup();
    }

    @AfterAll
    static void stop() {
        kernel.onShutdown(false);
    }

    @Test
    void expressionsStatementsAndDeclarations() {
        assertEquals(42, kernel.evalRaw("6 * 7"));
        assertEquals(6, kernel.evalRaw("int a = 2;\nint b = 3;\na * b"));
        assertEquals(null, kernel.evalRaw("int c = 4;"));
        assertEquals(9, kernel.evalRaw("int sq(int x) { return x * x; }\nsq(3)"));
        assertEquals(4, kernel.evalRaw("c"));
        assertEquals("oneml", kernel.evalRaw("\"one\" + \"ml\""));
        assertEquals(null, kernel.evalRaw("System.out.printf(\"%d%n\", 1)"), "a cell ending in printf shows only what it printed");
        assertInstanceOf(java.io.PrintStream.class, kernel.evalRaw("var out = System.out;\nout"), "a variable shows what it holds");
        // the imports every notebook starts with
        assertInstanceOf(tech.tablesaw.api.Table.class, kernel.evalRaw("Table.create(\"t\", IntColumn.create(\"x\", 1, 2))"));
        assertInstanceOf(oneml.LoRAConfig.class, kernel.evalRaw("LoRAConfig.builder().r(4).build()"));
    }

    @Test
    void errorsKeepTheirClassAndMessage() {
        RuntimeException e = assertThrows(IllegalStateException.class, () -> kernel.evalRaw("throw new IllegalStateException(\"boom\");"));
        assertEquals("boom", e.getMessage());
        List<String> trace = kernel.formatError(e);
        assertTrue(trace.get(0).contains("java.lang.IllegalStateException: boom"), trace.toString());
        assertTrue(trace.stream().noneMatch(l -> l.contains("CellExecution") || l.contains("jdk.internal.reflect")), trace.toString());

        var c = assertThrows(OnemlKernel.CompilationException.class, () -> kernel.evalRaw("int x = \"s\";"));
        assertTrue(c.getMessage().contains("incompatible types"), c.getMessage());
        String shown = String.join("\n", kernel.formatError(c)).replaceAll("\u001B\\[[;\\d]*m", "");
        assertTrue(shown.contains("int x = \"s\";") && shown.contains("incompatible types"), shown);

        var err = assertThrows(OnemlKernel.EvaluationError.class, () -> kernel.evalRaw("throw new AssertionError(\"nope\");"));
        assertTrue(err.getMessage().contains("AssertionError: nope"));
        // a failing snippet stops the rest of the cell
        assertThrows(IllegalStateException.class, () -> kernel.evalRaw("int z = 1;\nif (true) throw new IllegalStateException(\"x\");\nz = 2;"));
        assertEquals(1, kernel.evalRaw("z"));
    }

    @Test
    void isCompleteCompleteInspect() {
        assertEquals("complete", kernel.isComplete("1 + 1"));
        assertEquals("complete", kernel.isComplete("int x = 1;\nint y = 2;"));
        assertEquals("    ", kernel.isComplete("for (int i = 0; i < 3; i++) {"));
        assertEquals("invalid", kernel.isComplete("int x = ;"));
        assertEquals("invalid", kernel.isComplete("1 + 1)"));
        assertEquals("complete", kernel.isComplete("%lsmagic"));

        ReplacementOptions r = kernel.complete("Math.ab", 7);
        assertNotNull(r);
        assertTrue(r.getReplacements().contains("abs("), r.getReplacements().toString());
        assertEquals(5, r.getSourceStart());
        assertEquals(7, r.getSourceEnd());
        // the second snippet of a cell
        r = kernel.complete("int q = 1;\nMath.ma", 18);
        assertTrue(r.getReplacements().contains("max("), r.getReplacements().toString());
        assertEquals(16, r.getSourceStart());
        r = kernel.complete("%mav", 4);
        assertEquals(List.of("maven", "mavenRepo"), r.getReplacements());

        DisplayData doc = kernel.inspect("Math.abs(", 9, false);
        assertNotNull(doc);
        assertTrue(String.valueOf(doc.getData(MIMEType.TEXT_PLAIN)).contains("abs("));
        // a bare method name (Shift-Tab right after it) shows what the opened call shows: every overload, javadoc included
        String opened = String.valueOf(kernel.inspect("Math.max(", 9, false).getData(MIMEType.TEXT_PLAIN));
        DisplayData bare = kernel.inspect("Math.max", 8, false);
        assertNotNull(bare, "nothing found for a bare method name");
        String shown = String.valueOf(bare.getData(MIMEType.TEXT_PLAIN));
        assertEquals(opened, shown);
        assertTrue(shown.contains("Math.max(int a, int b)") && shown.contains("Math.max(double a, double b)"), shown);
        // the cursor inside the name, in the second snippet of a cell; the call opened after a space
        assertEquals(shown, String.valueOf(kernel.inspect("int w = 2;\nvar m = Math.max", 24, false).getData(MIMEType.TEXT_PLAIN)));
        assertTrue(String.valueOf(kernel.inspect("System.out.println (1)", 15, false).getData(MIMEType.TEXT_PLAIN))
                .contains("println(String x)"));
        // a variable still shows its type
        kernel.evalRaw("int inspected = 3;");
        String variable = String.valueOf(kernel.inspect("inspected", 9, false).getData(MIMEType.TEXT_PLAIN));
        assertTrue(variable.matches("inspected\\s*:\\s*int"), variable);
    }

    @Test
    void startupCodeAndTimeLimit() {
        OnemlKernel other = OnemlKernel.builder().synchronous().startup("int preset = 7;").timeout(500).build();
        try {
            assertEquals(7, other.evalRaw("preset"));
            long t0 = System.nanoTime();
            var e = assertThrows(java.util.concurrent.TimeoutException.class, () -> other.evalRaw("Thread.sleep(20_000);"));
            assertTrue(e.getMessage().contains("500 ms"), e.getMessage());
            assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "the time limit stops the cell");
            assertEquals(8, other.evalRaw("preset + 1"), "the kernel goes on after a stopped cell");
        } finally {
            other.closeShell();
        }
    }

    @Test
    void timeMagic() {
        String out = capture(() -> assertEquals(3, kernel.evalRaw("%time 1 + 2")));
        assertTrue(out.contains("Wall time:"), out);
        out = capture(() -> assertEquals(10, kernel.evalRaw("%%time\nint t = 4;\nt + 6")));
        assertTrue(out.contains("Wall time:"), out);
    }

    @Test
    void jarsAndMavenMagics(@TempDir Path tmp) throws Exception {
        Path jar = tmp.resolve("hello.jar");
        buildJar(jar, "demo.jars", "Hello", "jars");
        capture(() -> kernel.evalRaw("%jars " + jar));
        assertEquals("hello from jars", kernel.evalRaw("demo.jars.Hello.hi()"));

        // a file repository with demo:greeter:1.0, resolved by the real resolver into a private local repository
        Path repo = tmp.resolve("repo");
        Path dir = Files.createDirectories(repo.resolve("demo/greeter/1.0"));
        buildJar(dir.resolve("greeter-1.0.jar"), "demo.maven", "Hello", "maven");
        Files.writeString(dir.resolve("greeter-1.0.pom"), "<project><modelVersion>4.0.0</modelVersion><groupId>demo</groupId>"
                + "<artifactId>greeter</artifactId><version>1.0</version></project>");
        for (String f : List.of("greeter-1.0.jar", "greeter-1.0.pom")) {
            byte[] sha1 = java.security.MessageDigest.getInstance("SHA-1").digest(Files.readAllBytes(dir.resolve(f)));
            Files.writeString(dir.resolve(f + ".sha1"), java.util.HexFormat.of().formatHex(sha1));
        }
        String before = System.getProperty("maven.repo.local");
        System.setProperty("maven.repo.local", tmp.resolve("m2").toString());
        System.setProperty("oneml.maven.settings", "false"); // a mirror in settings.xml must not redirect the file repository
        try {
            String out = capture(() -> kernel.evalRaw("%mavenRepo local " + repo.toUri() + "\n%maven demo:greeter:1.0"));
            assertTrue(out.contains("resolved 1 jar"), out);
            assertEquals("hello from maven", kernel.evalRaw("demo.maven.Hello.hi()"));
        } finally {
            System.clearProperty("oneml.maven.settings");
            if (before == null) {
                System.clearProperty("maven.repo.local");
            } else {
                System.setProperty("maven.repo.local", before);
            }
        }
        assertTrue(kernel.classpath().stream().anyMatch(p -> p.endsWith("greeter-1.0.jar")));
        RuntimeException none = assertThrows(RuntimeException.class, () -> kernel.evalRaw("%jars " + tmp.resolve("nothing-*.jar")));
        assertEquals(1, kernel.formatError(none).size(), "a failed magic shows its message, not a stack trace");
        assertTrue(kernel.formatError(none).get(0).contains("nothing matches"));
        RuntimeException unknown = assertThrows(RuntimeException.class, () -> kernel.evalRaw("%nosuchmagic"));
        assertEquals(1, kernel.formatError(unknown).size(), kernel.formatError(unknown).toString());
    }

    @Test
    void extensionsInAddedJarsAreInstalled(@TempDir Path tmp) throws Exception {
        // a jar declaring an org.dflib.jjava.jupyter.Extension (META-INF/services) that registers a magic
        Path src = Files.createDirectories(tmp.resolve("src/demo/ext"));
        Files.writeString(src.resolve("Hello.java"), "package demo.ext; public class Hello implements org.dflib.jjava.jupyter.Extension {"
                + " public void install(org.dflib.jjava.jupyter.kernel.BaseKernel k) {"
                + "  k.getMagicsRegistry().registerLineMagic(\"hello\", (kernel, args) -> { System.out.println(\"hello \" + args); return null; }); } }");
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        String cp = JupyterSupport.testClasspath();
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, "-cp", cp, "-d", classes.toString(),
                src.resolve("Hello.java").toString()));
        Path jar = tmp.resolve("ext.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("demo/ext/Hello.class"));
            out.write(Files.readAllBytes(classes.resolve("demo/ext/Hello.class")));
            out.closeEntry();
            out.putNextEntry(new JarEntry("META-INF/services/org.dflib.jjava.jupyter.Extension"));
            out.write("demo.ext.Hello\n".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        capture(() -> kernel.evalRaw("%jars " + jar));
        String out = capture(() -> kernel.evalRaw("%hello world"));
        assertTrue(out.contains("hello [world]"), out);
    }

    @Test
    void rendersTablesChartsAndOnemlObjects() {
        DisplayData table = kernel.eval("Table.create(\"scores\", IntColumn.create(\"x\", 1, 2, 3))");
        assertTrue(String.valueOf(table.getData(MIMEType.TEXT_HTML)).contains("<table"));
        assertTrue(String.valueOf(table.getData(MIMEType.TEXT_PLAIN)).contains("scores"));

        DisplayData big = kernel.eval("Table.create(\"big\", IntColumn.indexColumn(\"i\", 1000, 0))");
        String html = String.valueOf(big.getData(MIMEType.TEXT_HTML));
        assertTrue(html.contains("1,000 rows") && html.contains("first 20 shown"), html);

        DisplayData chart = kernel.eval("var ch = new XYChartBuilder().title(\"t\").xAxisTitle(\"x\").yAxisTitle(\"y\").build();\n"
                + "ch.addSeries(\"s\", new double[]{1, 2}, new double[]{3, 4});\nch");
        assertTrue(String.valueOf(chart.getData(MIMEType.IMAGE_PNG)).startsWith("iVBOR"), "a base64 PNG");

        DisplayData config = kernel.eval("LoRAConfig.builder().r(8).alpha(16).targetModules(\"q_proj\").build()");
        assertTrue(String.valueOf(config.getData(MIMEType.TEXT_HTML)).contains("q_proj"));
        assertTrue(String.valueOf(config.getData(MIMEType.TEXT_PLAIN)).startsWith("LoRAConfig("));
    }

    @Test
    void lossChartAndRunSummary() {
        var history = tech.tablesaw.api.Table.create("history",
                tech.tablesaw.api.DoubleColumn.create("step", java.util.stream.IntStream.rangeClosed(1, 60).asDoubleStream().toArray()),
                tech.tablesaw.api.DoubleColumn.create("loss", java.util.stream.IntStream.rangeClosed(1, 60).mapToDouble(i -> 3.0 / i).toArray()));
        var evals = tech.tablesaw.api.Table.create("evaluations", tech.tablesaw.api.IntColumn.create("step", 30, 60),
                tech.tablesaw.api.DoubleColumn.create("val_loss", 0.5, 0.2), tech.tablesaw.api.DoubleColumn.create("val_perplexity", 1.6, 1.2));
        var run = new oneml.train.TrainingRun(oneml.train.TrainConfig.builder().build(), history, evals, oneml.train.StopReason.values()[0],
                "", 60, 3.0, 1000, 6000, 0.2, 60);
        var chart = oneml.viz.Charts.loss(run);
        assertEquals(3, chart.getSeriesMap().size()); // raw, moving average, validation
        assertEquals("step", chart.getXAxisTitle());
        assertTrue(Renderers.png(chart).startsWith("iVBOR"));
        String html = Renderers.runHtml(run);
        assertTrue(html.contains("TrainingRun") && html.contains("0.2000 at step 60"), html);
    }

    @Test
    void historyTailRangeSearch() {
        History h = new History();
        h.add(1, "6 * 7", "6 * 7", "42");
        h.add(2, "int x = 1;", "int x = 1;", null);
        h.add(3, "6 * 7", "6 * 7", "42");
        assertEquals(2, h.lookupTail(2, java.util.EnumSet.noneOf(org.dflib.jjava.jupyter.kernel.history.HistoryManager.ResultFlag.class)).size());
        assertEquals(1, h.lookupRange(History.SESSION, 2, 3, java.util.EnumSet.noneOf(org.dflib.jjava.jupyter.kernel.history.HistoryManager.ResultFlag.class)).size());
        assertEquals(2, h.search("6 ? 7", 0, java.util.EnumSet.noneOf(org.dflib.jjava.jupyter.kernel.history.HistoryManager.ResultFlag.class)).size());
        assertEquals(1, h.search("6*", 0, java.util.EnumSet.of(org.dflib.jjava.jupyter.kernel.history.HistoryManager.ResultFlag.UNIQUE)).size());
    }

    @Test
    void kernelSpecJson(@TempDir Path tmp) throws Exception {
        KernelSpec spec = KernelSpec.of("java", "Java (oneml)", "a.jar:lib/*", Path.of("/opt/oneml"), List.of("-Xmx4g"));
        Path dir = spec.installInto(tmp);
        var json = com.google.gson.JsonParser.parseString(Files.readString(dir.resolve("kernel.json"))).getAsJsonObject();
        assertEquals("message", json.get("interrupt_mode").getAsString());
        assertEquals("java", json.get("language").getAsString());
        var argv = json.getAsJsonArray("argv");
        assertTrue(argv.get(0).getAsString().endsWith("java"));
        assertEquals("{connection_file}", argv.get(argv.size() - 1).getAsString());
        assertEquals("oneml.kernel.OnemlKernel", argv.get(argv.size() - 2).getAsString());
        assertTrue(argv.toString().contains("-Doneml.home=/opt/oneml"));
        assertTrue(argv.toString().contains("-Xmx4g"));
        assertThrows(IllegalArgumentException.class, () -> KernelSpec.of("bad name", "x", "cp", tmp, List.of()));
    }

    static void buildJar(Path jar, String pkg, String cls, String word) throws Exception {
        Path src = Files.createTempDirectory("src");
        Path file = src.resolve(cls + ".java");
        Files.writeString(file, "package " + pkg + "; public class " + cls + " { public static String hi() { return \"hello from " + word + "\"; } }");
        Path classes = Files.createDirectories(src.resolve("classes"));
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), file.toString());
        assertEquals(0, rc);
        Path compiled = classes.resolve(pkg.replace('.', '/')).resolve(cls + ".class");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry(pkg.replace('.', '/') + "/" + cls + ".class"));
            out.write(Files.readAllBytes(compiled));
            out.closeEntry();
        }
    }

    static String capture(Runnable r) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new TeeStream(buf, old), true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.out.flush();
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    private static final class TeeStream extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        TeeStream(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
