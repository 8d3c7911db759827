package oneml.kernel;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.DeclarationSnippet;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.CompletionInfo;
import jdk.jshell.SourceCodeAnalysis.Documentation;
import jdk.jshell.SourceCodeAnalysis.Suggestion;
import oneml.Train;
import oneml.train.ConsoleProgress;
import oneml.train.StopReason;
import oneml.train.TrainingRun;
import org.dflib.jjava.jupyter.channels.ShellReplyEnvironment;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.BaseKernelBuilder;
import org.dflib.jjava.jupyter.kernel.HelpLink;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.kernel.ReplacementOptions;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.dflib.jjava.jupyter.kernel.history.HistoryEntry;
import org.dflib.jjava.jupyter.kernel.history.HistoryManager;
import org.dflib.jjava.jupyter.kernel.magic.MagicParser;
import org.dflib.jjava.jupyter.kernel.util.PathsHandler;
import org.dflib.jjava.jupyter.messages.Header;
import org.dflib.jjava.jupyter.messages.Message;
import org.dflib.jjava.jupyter.messages.publish.PublishClearOutput;
import org.dflib.jjava.jupyter.messages.reply.KernelInfoReply;
import org.dflib.jjava.jupyter.messages.request.ExecuteRequest;
import org.dflib.jjava.jupyter.messages.request.HistoryRequest;
import org.dflib.jjava.jupyter.messages.request.KernelInfoRequest;

/**
 * A Jupyter kernel for Java with oneml preloaded, in the IJava tradition: cells are JShell snippets run in the
 * kernel's own JVM, so a cell's value is the object itself and renders richly (Tablesaw tables as HTML, XChart
 * charts as PNG, oneml configs, models and runs as HTML); {@code Train...run()} shows live progress in the cell.
 *
 * <p>Built on the JJava base ({@code org.dflib.jjava:jjava-jupyter}), with its known gaps filled: the
 * kernel_info and history replies carry every field the protocol requires, history is kept and searchable,
 * {@code clearOutput()} exists, every shell/control request is authenticated by HMAC (see
 * {@link SignedShellChannel}), kernel logs never reach a cell's output.
 *
 * <p>Start: {@code java -cp ... oneml.kernel.OnemlKernel CONNECTION_FILE} (what the kernelspec that
 * {@code ./oneml kernel install} writes runs). Environment, as IJava: {@code IJAVA_CLASSPATH} (extra class path,
 * globs allowed), {@code IJAVA_STARTUP_SCRIPTS_PATH} (.jsh files, globs), {@code IJAVA_STARTUP_SCRIPT} (code),
 * {@code IJAVA_COMPILER_OPTS} (javac options), {@code IJAVA_TIMEOUT} (milliseconds per snippet, -1 for none).
 */
public final class OnemlKernel extends BaseKernel {

    /** What every notebook starts with (the same packages as {@code ./oneml shell}, plus display helpers and charts). */
    public static final List<String> IMPORTS = List.of(
            "import java.util.*;",
            "import java.nio.file.*;",
            "import oneml.*;",
            "import oneml.data.*;",
            "import oneml.model.*;",
            "import oneml.peft.*;",
            "import oneml.train.*;",
            "import tech.tablesaw.api.*;",
            "import oneml.viz.*;",
            "import oneml.compare.*;",
            "import org.knowm.xchart.*;",
            "import static oneml.kernel.Notebook.*;");

    public static final String VERSION = "0.1.0";

    private static final Pattern TIME_MAGIC = Pattern.compile("\\A\\s*(%%?)time\\b[ \\t]*([^\\r\\n]*)(?:\\R([\\s\\S]*))?\\z");
    private static final Pattern MAGIC_PREFIX = Pattern.compile("(?m)^[ \\t]*(%{1,2})(\\w*)\\z");

    private final PrintStream kernelOut;
    private final PrintStream kernelErr;
    private final SnippetLoader loader;
    private final CellExecution.Provider executionProvider;
    private final History history;
    private final List<String> compilerOptions;
    private final List<String> startupCode;
    private final long timeoutMs;
    private final Set<String> classpath = new LinkedHashSet<>();
    private final CompletableFuture<JShell> shell;

    private volatile ShellReplyEnvironment currentEnv;
    private volatile boolean interruptRequested;
    private volatile boolean timedOut;
    private volatile String lastTransformed;
    private volatile String lastOutput;
    /** A training run of the current cell that an interrupt stopped (for the interrupt's message). */
    private volatile TrainingRun interruptedRun;
    private final long createdNanos = System.nanoTime();

    private OnemlKernel(Builder b, String name, String version, History history, org.dflib.jjava.jupyter.kernel.JupyterIO io,
            org.dflib.jjava.jupyter.kernel.comm.CommManager comms, org.dflib.jjava.jupyter.kernel.display.Renderer renderer,
            org.dflib.jjava.jupyter.kernel.magic.MagicTranspiler transpiler, org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry magics,
            boolean extensions, org.dflib.jjava.jupyter.kernel.util.StringStyler errorStyler) {
        super(name, version, languageInfo(), List.of(
                        new HelpLink("JShell", "https://docs.oracle.com/en/java/javase/17/jshell/"),
                        new HelpLink("Tablesaw", "https://jtablesaw.github.io/tablesaw/"),
                        new HelpLink("XChart", "https://knowm.org/open-source/xchart/")),
                history, io, comms, renderer, new MagicParser("(?<=(?:^|=))\\s*%", "%%", transpiler), magics, extensions, errorStyler);
        this.kernelOut = System.out;
        this.kernelErr = System.err;
        this.history = history;
        this.compilerOptions = List.copyOf(b.compilerOptions);
        this.startupCode = List.copyOf(b.startupCode);
        this.timeoutMs = b.timeoutMs;
        this.loader = new SnippetLoader(OnemlKernel.class.getClassLoader());
        this.executionProvider = new CellExecution.Provider(loader);
        this.classpath.addAll(b.classpath);
        Renderers.registerAll(renderer);
        Magics.registerAll(this, magicsRegistry);
        this.shell = b.lazy ? new CompletableFuture<>() : CompletableFuture.supplyAsync(this::createShell);
        if (b.lazy) {
            shell.complete(createShell());
        }
    }

    private static LanguageInfo languageInfo() {
        return new LanguageInfo.Builder("java")
                .version(Runtime.version().toString())
                .mimetype("text/x-java-source")
                .fileExtension(".jshell")
                .pygments("java")
                .codemirror("text/x-java")
                .build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options for a kernel; {@link #fromEnvironment()} reads IJava's variables. */
    public static final class Builder extends BaseKernelBuilder<Builder, OnemlKernel> {
        private final List<String> classpath = new ArrayList<>();
        private final List<String> compilerOptions = new ArrayList<>();
        private final List<String> startupCode = new ArrayList<>();
        private long timeoutMs = -1;
        private boolean lazy;

        private Builder() {
            name("oneml");
            version(VERSION);
            historyManager(new History());
            for (String entry : System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")).split(java.io.File.pathSeparator)) {
                if (!entry.isBlank()) {
                    classpath.add(entry);
                }
            }
        }

        /** Extra class path entries (globs allowed) available to every cell. */
        public Builder classpath(String paths) {
            for (Path p : PathsHandler.splitAndResolveGlobs(paths)) {
                classpath.add(p.toAbsolutePath().toString());
            }
            return this;
        }

        public Builder compilerOptions(Collection<String> options) {
            compilerOptions.addAll(options);
            return this;
        }

        /** Code run once when the kernel starts, after the default imports. */
        public Builder startup(String code) {
            startupCode.add(code);
            return this;
        }

        /** Stops a snippet after this long (milliseconds); -1 (the default) never does. */
        public Builder timeout(long ms) {
            timeoutMs = ms;
            return this;
        }

        /** Kernel I/O whose display stream stays with the last cell, so threads a cell started can still display. */
        @Override
        protected org.dflib.jjava.jupyter.kernel.JupyterIO buildJupyterIO(java.nio.charset.Charset encoding) {
            return new StickyIO(encoding);
        }

        /** Creates JShell on the calling thread (tests) instead of in the background. */
        public Builder synchronous() {
            lazy = true;
            return this;
        }

        /** IJAVA_CLASSPATH, IJAVA_COMPILER_OPTS, IJAVA_STARTUP_SCRIPTS_PATH, IJAVA_STARTUP_SCRIPT, IJAVA_TIMEOUT. */
        public Builder fromEnvironment() throws IOException {
            Map<String, String> env = System.getenv();
            if (env.get("IJAVA_CLASSPATH") != null) {
                classpath(env.get("IJAVA_CLASSPATH"));
            }
            if (env.get("IJAVA_COMPILER_OPTS") != null && !env.get("IJAVA_COMPILER_OPTS").isBlank()) {
                compilerOptions(List.of(env.get("IJAVA_COMPILER_OPTS").trim().split("\\s+")));
            }
            if (env.get("IJAVA_STARTUP_SCRIPTS_PATH") != null) {
                for (Path p : PathsHandler.splitAndResolveGlobs(env.get("IJAVA_STARTUP_SCRIPTS_PATH"))) {
                    if (Files.isRegularFile(p)) {
                        startup(Files.readString(p));
                    }
                }
            }
            if (env.get("IJAVA_STARTUP_SCRIPT") != null) {
                startup(env.get("IJAVA_STARTUP_SCRIPT"));
            }
            if (env.get("IJAVA_TIMEOUT") != null && !env.get("IJAVA_TIMEOUT").isBlank()) {
                timeout(Long.parseLong(env.get("IJAVA_TIMEOUT").trim()));
            }
            return this;
        }

        @Override
        public OnemlKernel build() {
            if (!(buildHistoryManager() instanceof History history)) {
                throw new IllegalArgumentException("the oneml kernel keeps its own history");
            }
            return new OnemlKernel(this, buildName(), buildVersion(), history, buildJupyterIO(buildJupyterIOEncoding()),
                    buildCommManager(), buildRenderer(), buildMagicTranspiler(), buildMagicsRegistry(), buildExtensionsEnabled(),
                    buildErrorStyler());
        }
    }

    // ------------------------------------------------------------------ start-up

    /** Runs the kernel on a Jupyter connection file until the frontend shuts it down. */
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: java -cp ... oneml.kernel.OnemlKernel CONNECTION_FILE");
            System.exit(2);
        }
        quietLogs();
        System.setProperty("java.awt.headless", "true");
        KernelConnectionProperties props = KernelConnectionProperties.parse(Files.readString(Path.of(args[0]), StandardCharsets.UTF_8));
        OnemlKernel kernel = builder().fromEnvironment().build();
        SecureConnection connection = new SecureConnection(props);
        kernel.becomeHandlerForConnection(connection);
        kernel.onStartup();
        connection.connect();
        watchParent(connection);
        connection.waitUntilClose();
        System.exit(0);
    }

    /**
     * Ends the kernel when the process that started it is gone (JPY_PARENT_PID, set by jupyter_client), so a
     * killed frontend never leaves a JVM behind.
     */
    private static void watchParent(SecureConnection connection) {
        String pid = System.getenv("JPY_PARENT_PID");
        if (pid == null || pid.isBlank()) {
            return;
        }
        java.util.Optional<ProcessHandle> parent;
        try {
            parent = ProcessHandle.of(Long.parseLong(pid.trim()));
        } catch (NumberFormatException e) {
            return;
        }
        if (parent.isEmpty()) {
            return;
        }
        Thread watcher = new Thread(() -> {
            parent.get().onExit().join();
            System.err.println("oneml kernel: parent process " + pid + " ended; shutting down");
            connection.close();
            Runtime.getRuntime().halt(0);
        }, "oneml-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    /**
     * Kernel logs go to the kernel's stderr (the Jupyter server's log), never into a cell: slf4j-simple keeps the
     * stream it found at start-up, and only warnings are logged; JUL (JShell, the resolver) is quiet too.
     */
    static void quietLogs() {
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        setIfAbsent("org.slf4j.simpleLogger.cacheOutputStream", "true");
        setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.setLevel(Level.WARNING);
        for (var h : root.getHandlers()) {
            h.setLevel(Level.WARNING);
        }
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    @Override
    public void onStartup() {
        super.onStartup();
        NotebookProgress.Display cell = new NotebookProgress.Display() {
            @Override
            public boolean publish(DisplayData data, boolean update) {
                return OnemlKernel.this.publish(data, update);
            }

            @Override
            public void ended(TrainingRun run) {
                if (run.stopReason() == StopReason.INTERRUPTED) {
                    interruptedRun = run;
                }
            }
        };
        Train.progress(() -> getIO().display.isAttached() ? new NotebookProgress(cell, System::nanoTime) : new ConsoleProgress(System.out));
    }

    @Override
    public void onShutdown(boolean isRestarting) {
        Train.progress(null);
        try {
            super.onShutdown(isRestarting);
        } finally {
            closeShell();
        }
    }

    /** Ends JShell and the cell thread (onShutdown does; a kernel never started needs only this). */
    void closeShell() {
        JShell s = shell.getNow(null);
        if (s != null) {
            s.close();
        }
    }

    private JShell createShell() {
        JShell s = JShell.builder()
                .executionEngine(executionProvider, Map.of())
                .out(kernelOut)
                .err(kernelErr)
                .compilerOptions(compilerOptions.toArray(String[]::new))
                .build();
        s.addToClasspath(String.join(java.io.File.pathSeparator, classpath));
        List<String> startup = new ArrayList<>(IMPORTS);
        startup.addAll(startupCode);
        for (String code : startup) {
            try {
                evalCell(s, code);
            } catch (Exception e) {
                kernelErr.println("oneml kernel: start-up code failed: " + code.lines().findFirst().orElse("") + ": " + e.getMessage());
            }
        }
        return s;
    }

    /** JShell, once it is ready (the kernel answers kernel_info while it starts). */
    JShell shell() {
        try {
            return shell.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while JShell was starting");
        } catch (ExecutionException e) {
            throw new IllegalStateException("JShell could not start: " + e.getCause(), e.getCause());
        }
    }

    /** Seconds since this kernel object was created (for start-up measurements). */
    double uptimeSeconds() {
        return (System.nanoTime() - createdNanos) / 1e9;
    }

    @Override
    protected ClassLoader getClassLoader() {
        return loader.classLoader();
    }

    /** Adds jars or folders to the class path of the following snippets, then loads any Extension they declare. */
    List<String> addToClasspath(Collection<Path> paths) {
        List<String> added = new ArrayList<>();
        for (Path p : paths) {
            String entry = p.toAbsolutePath().normalize().toString();
            if (classpath.add(entry)) {
                shell().addToClasspath(entry);
                added.add(entry);
            }
        }
        if (!added.isEmpty() && extensionsEnabled) {
            installExtensions(loader.classLoader());
        }
        return added;
    }

    List<String> classpath() {
        return List.copyOf(classpath);
    }

    // ------------------------------------------------------------------ evaluation

    @Override
    public Object evalRaw(String code) {
        JShell s = shell();
        CellExecution control = executionProvider.control();
        interruptedRun = null;
        try {
            Matcher time = TIME_MAGIC.matcher(code);
            if (time.matches()) {
                return timed(s, time);
            }
            return evalCell(s, code);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw sneaky(e);
        } catch (Error e) {
            throw new EvaluationError(e);
        } finally {
            if (control != null) {
                control.clearResults();
            }
            System.out.flush();
            System.err.flush();
        }
    }

    private Object timed(JShell s, Matcher m) throws Exception {
        boolean cell = m.group(1).equals("%%");
        String line = m.group(2) == null ? "" : m.group(2);
        String body = m.group(3) == null ? "" : m.group(3);
        String measured = cell ? (line + "\n" + body) : (line.isBlank() ? body : line);
        String after = !cell && !line.isBlank() ? body : "";
        long cpu0 = processCpuNanos();
        long t0 = System.nanoTime();
        Object value;
        try {
            value = evalCell(s, measured);
        } finally {
            long wall = System.nanoTime() - t0;
            long cpu = processCpuNanos() - cpu0;
            System.out.flush();
            System.out.println((cpu0 >= 0 ? "CPU time (process): " + duration(cpu) + "\n" : "") + "Wall time: " + duration(wall));
            System.out.flush();
        }
        if (!after.isBlank()) {
            value = evalCell(s, after);
        }
        return value;
    }

    static String duration(long nanos) {
        if (nanos < 1_000_000L) {
            return String.format(Locale.ROOT, "%.0f µs", nanos / 1e3);
        }
        if (nanos < 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** Splits a cell into snippets and evaluates them in order; the value of the last expression is the cell's. */
    private Object evalCell(JShell s, String code) throws Exception {
        String transformed = magicParser.resolveMagics(code);
        lastTransformed = transformed;
        SourceCodeAnalysis analysis = s.sourceCodeAnalysis();
        Object value = null;
        String remaining = transformed;
        while (!remaining.isBlank()) {
            if (interruptRequested) {
                throw interrupted(executionProvider.control());
            }
            CompletionInfo info = analysis.analyzeCompletion(remaining);
            String source;
            switch (info.completeness()) {
                case COMPLETE, COMPLETE_WITH_SEMI -> {
                    source = info.source();
                    remaining = info.remaining();
                }
                case EMPTY -> {
                    return value;
                }
                default -> {
                    // incomplete or not understood: let the compiler say what is wrong with the rest
                    source = remaining;
                    remaining = "";
                }
            }
            value = evalSnippet(s, source);
        }
        return value;
    }

    private Object evalSnippet(JShell s, String source) throws Exception {
        CellExecution control = executionProvider.control();
        List<SnippetEvent> events = timeoutMs > 0 ? evalWithTimeout(s, source) : s.eval(source);
        Object value = null;
        for (SnippetEvent event : events) {
            if (event.causeSnippet() != null) {
                continue; // an update of another snippet this one caused
            }
            Snippet snippet = event.snippet();
            Object result = control == null ? null : control.takeResult(event.value());
            if (event.status() == Snippet.Status.REJECTED) {
                throw compilationError(s, snippet);
            }
            if (control != null && control.wasStopped()) {
                if (timedOut) {
                    throw new TimeoutException("stopped after the time limit of " + timeoutMs + " ms (IJAVA_TIMEOUT)");
                }
                throw interrupted(control);
            }
            if (event.exception() != null) {
                throw runtimeError(s, event.exception(), control);
            }
            if (event.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED && snippet instanceof DeclarationSnippet d) {
                throw new CompilationException("unresolved: " + String.join(", ", s.unresolvedDependencies(d).toList()),
                        List.of(errorStyler.secondary(d.source().strip()),
                                errorStyler.primary("cannot be defined until these are: "
                                        + String.join(", ", s.unresolvedDependencies(d).toList()))));
            }
            if (event.status() == Snippet.Status.RECOVERABLE_DEFINED && snippet instanceof DeclarationSnippet d) {
                System.err.println("note: " + d.source().strip().lines().findFirst().orElse("")
                        + " cannot be used until " + String.join(", ", s.unresolvedDependencies(d).toList()) + " is declared");
            }
            switch (snippet.subKind()) {
                case VAR_VALUE_SUBKIND -> value = result;
                // printf, format and append return their stream: a cell ending in one shows what it printed, not
                // "java.io.PrintStream@1b2c3d"
                case OTHER_EXPRESSION_SUBKIND, TEMP_VAR_EXPRESSION_SUBKIND -> value = result instanceof java.io.PrintStream ? null : result;
                default -> value = null;
            }
        }
        return value;
    }

    /** Evaluates with a watchdog that stops the snippet once it has run (compiling excluded) longer than the limit. */
    private List<SnippetEvent> evalWithTimeout(JShell s, String source) {
        timedOut = false;
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        Thread watchdog = new Thread(() -> {
            long runningSince = -1;
            while (!done.get()) {
                CellExecution c = executionProvider.control();
                if (c != null && c.isRunning()) {
                    long now = System.nanoTime();
                    if (runningSince < 0) {
                        runningSince = now;
                    } else if (now - runningSince > TimeUnit.MILLISECONDS.toNanos(timeoutMs)) {
                        timedOut = true;
                        c.stop();
                        return;
                    }
                } else {
                    runningSince = -1;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "oneml-cell-timeout");
        watchdog.setDaemon(true);
        watchdog.start();
        try {
            return s.eval(source);
        } finally {
            done.set(true);
        }
    }

    /** What an interrupt did, in words: stopped cleanly (a training run says after which step) or forcibly. */
    private CellInterrupted interrupted(CellExecution control) {
        TrainingRun run = interruptedRun;
        String what;
        if (control != null && control.wasForced()) {
            what = "the code did not react to the interrupt and was stopped forcibly; objects it was changing may be"
                    + " half updated";
        } else if (run != null) {
            what = "training stopped between steps, " + run.message() + " (the run's stopReason is INTERRUPTED)";
        } else {
            what = "the code stopped";
        }
        return new CellInterrupted("cell interrupted: " + what + "; the rest of the cell did not run");
    }

    private CompilationException compilationError(JShell s, Snippet snippet) {
        List<String> lines = new ArrayList<>();
        String source = snippet.source();
        String first = null;
        for (Diag d : s.diagnostics(snippet).toList()) {
            if (!d.isError()) {
                continue;
            }
            String message = d.getMessage(Locale.ROOT);
            if (first == null) {
                first = message;
            }
            int start = (int) Math.max(0, d.getStartPosition() >= 0 ? d.getStartPosition() : d.getPosition());
            int end = (int) Math.max(start + 1, d.getEndPosition());
            start = Math.min(start, source.length());
            end = Math.min(end, source.length());
            lines.addAll(errorStyler.highlightSubstringLines(source.stripTrailing(), Math.min(start, source.stripTrailing().length()),
                    Math.min(end, source.stripTrailing().length())));
            lines.addAll(errorStyler.primaryLines(message));
        }
        if (first == null) {
            first = "the snippet was rejected: " + source.strip();
            lines.add(errorStyler.primary(first));
        }
        return new CompilationException(first, lines);
    }

    private Exception runtimeError(JShell s, JShellException e, CellExecution control) {
        if (e instanceof EvalException && control != null && control.lastFailure() != null) {
            Throwable original = control.lastFailure();
            if (original instanceof Exception ex) {
                return ex;
            }
            return new EvaluationError(original);
        }
        return e;
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
        throw (T) t;
    }

    @Override
    public DisplayData eval(String code) {
        lastOutput = null;
        DisplayData out = super.eval(code);
        if (out != null) {
            Object text = out.getData(MIMEType.TEXT_PLAIN);
            lastOutput = text == null ? null : String.valueOf(text);
        }
        return out;
    }

    @Override
    public List<String> formatError(Throwable e) {
        if (e instanceof CompilationException c) {
            return c.lines();
        }
        if (e instanceof CellInterrupted) {
            return List.of(errorStyler.primary(e.getMessage())); // the kernel's own stack would say nothing
        }
        Throwable shown = e instanceof EvaluationError ee ? ee.getCause() : e;
        List<String> lines = new ArrayList<>();
        if (isMagicFailure(shown)) {
            // a magic failed: its message says what went wrong, the resolver's or the kernel's stack would not
            String message = String.valueOf(shown.getMessage());
            message.lines().forEach(l -> lines.add(errorStyler.secondary(l)));
            return lines;
        }
        appendTrace(lines, shown, "", new LinkedHashSet<>());
        return lines;
    }

    private static boolean isMagicFailure(Throwable t) {
        StackTraceElement[] top = t.getStackTrace();
        for (int i = 0; i < Math.min(3, top.length); i++) {
            String c = top[i].getClassName();
            if (c.equals(org.dflib.jjava.jupyter.kernel.BaseNotebookStatics.class.getName())
                    || c.equals(org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry.class.getName())) {
                return true;
            }
        }
        return false;
    }

    private void appendTrace(List<String> lines, Throwable t, String prefix, Set<Throwable> seen) {
        if (!seen.add(t)) {
            return;
        }
        String head = prefix + t.getClass().getName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        lines.add(errorStyler.secondary(head.lines().findFirst().orElse(head)));
        head.lines().skip(1).forEach(l -> lines.add(errorStyler.secondary(l)));
        StackTraceElement[] trace = t.getStackTrace();
        int end = trace.length;
        for (int i = trace.length - 1; i >= 0; i--) {
            if (trace[i].getClassName().startsWith("REPL.")) {
                end = i + 1;
                break;
            }
        }
        for (int i = 0; i < end; i++) {
            String c = trace[i].getClassName();
            if (c.startsWith("oneml.kernel.CellExecution") || c.startsWith("jdk.internal.reflect.")
                    || (c.equals("java.lang.reflect.Method") && trace[i].getMethodName().equals("invoke"))) {
                break;
            }
            lines.add(errorStyler.primary("    at " + trace[i]));
        }
        if (t.getCause() != null) {
            appendTrace(lines, t.getCause(), "Caused by: ", seen);
        }
    }

    /** A snippet that does not compile: its source with the error marked, and the compiler's message. */
    public static final class CompilationException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient List<String> lines;

        CompilationException(String message, List<String> lines) {
            super(message, null, false, false);
            this.lines = List.copyOf(lines);
        }

        List<String> lines() {
            return lines;
        }
    }

    /** A cell stopped by an interrupt (the stop button, interrupt_request); the message says how it stopped. */
    public static final class CellInterrupted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CellInterrupted(String message) {
            super(message, null, false, false);
        }
    }

    /** An Error (StackOverflowError, OutOfMemoryError, ...) a cell threw, as an exception the protocol layer reports. */
    public static final class EvaluationError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        EvaluationError(Throwable cause) {
            super(cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage()), cause);
        }
    }

    // ------------------------------------------------------------------ code intelligence

    @Override
    public String isComplete(String code) {
        JShell s = shell();
        SourceCodeAnalysis analysis = s.sourceCodeAnalysis();
        String remaining = magicParser.resolveMagics(code);
        while (true) {
            if (remaining.isBlank()) {
                return IS_COMPLETE_YES;
            }
            CompletionInfo info = analysis.analyzeCompletion(remaining);
            switch (info.completeness()) {
                case EMPTY:
                    return IS_COMPLETE_YES;
                case COMPLETE:
                case COMPLETE_WITH_SEMI:
                    remaining = info.remaining();
                    break;
                case DEFINITELY_INCOMPLETE:
                case CONSIDERED_INCOMPLETE:
                    return indent(code);
                default:
                    return IS_COMPLETE_BAD;
            }
        }
    }

    /** The indent of the next line: the last line's, one level more after an opening brace or parenthesis. */
    private static String indent(String code) {
        String last = code.isEmpty() ? "" : code.lines().reduce((a, b) -> b).orElse("");
        String lead = last.substring(0, last.length() - last.stripLeading().length());
        String trimmed = last.strip();
        return trimmed.endsWith("{") || trimmed.endsWith("(") ? lead + "    " : lead;
    }

    /** Where the snippet holding position {@code at} starts. */
    private static int snippetStart(SourceCodeAnalysis analysis, String code, int at) {
        int start = 0;
        String remaining = code;
        while (!remaining.isBlank()) {
            CompletionInfo info = analysis.analyzeCompletion(remaining);
            if (info.completeness() != SourceCodeAnalysis.Completeness.COMPLETE
                    && info.completeness() != SourceCodeAnalysis.Completeness.COMPLETE_WITH_SEMI) {
                break;
            }
            int consumed = code.length() - info.remaining().length();
            if (consumed >= at || info.remaining().length() >= remaining.length()) {
                break;
            }
            start = consumed;
            remaining = info.remaining();
        }
        // skip the whitespace between snippets
        while (start < at && Character.isWhitespace(code.charAt(start))) {
            start++;
        }
        return start;
    }

    @Override
    public ReplacementOptions complete(String code, int cursor) {
        int at = utf16(code, cursor);
        Matcher magic = MAGIC_PREFIX.matcher(code.substring(0, at));
        if (magic.find()) {
            String prefix = magic.group(2);
            Set<String> names = magic.group(1).length() == 2 ? magicsRegistry.getCellMagicNames() : magicsRegistry.getLineMagicNames();
            List<String> matches = names.stream().filter(n -> n.startsWith(prefix)).sorted().collect(Collectors.toList());
            return new ReplacementOptions(matches, codePoints(code, at - prefix.length()), codePoints(code, at));
        }
        SourceCodeAnalysis analysis = shell().sourceCodeAnalysis();
        int start = snippetStart(analysis, code, at);
        int[] anchor = {-1};
        List<Suggestion> suggestions = analysis.completionSuggestions(code.substring(start), at - start, anchor);
        if (suggestions.isEmpty() || anchor[0] < 0) {
            return null;
        }
        Set<String> typed = new LinkedHashSet<>();
        Set<String> others = new LinkedHashSet<>();
        for (Suggestion s : suggestions) {
            (s.matchesType() ? typed : others).add(s.continuation());
        }
        typed.addAll(others);
        return new ReplacementOptions(new ArrayList<>(typed), codePoints(code, start + anchor[0]), codePoints(code, at));
    }

    @Override
    public DisplayData inspect(String code, int cursor, boolean extraDetail) {
        int at = utf16(code, cursor);
        int end = at;
        while (end < code.length() && Character.isJavaIdentifierPart(code.charAt(end))) {
            end++;
        }
        SourceCodeAnalysis analysis = shell().sourceCodeAnalysis();
        int start = snippetStart(analysis, code, end);
        String snippet = code.substring(start);
        List<Documentation> docs = analysis.documentation(snippet, end - start, true);
        if (docs.isEmpty() && end > start && Character.isJavaIdentifierPart(code.charAt(end - 1))) {
            // a bare method name (Math.max, list.add): JShell documents only calls, so ask as if the call were opened
            docs = analysis.documentation(code.substring(start, end) + "(", end - start + 1, true);
        }
        StringBuilder text = new StringBuilder();
        for (Documentation d : docs) {
            text.append(d.signature()).append('\n');
            if (d.javadoc() != null && !d.javadoc().isBlank()) {
                text.append('\n').append(d.javadoc().strip()).append("\n\n");
            }
        }
        if (text.length() == 0) {
            String type = analysis.analyzeType(snippet, end - start);
            if (type == null || type.isBlank()) {
                return null;
            }
            int idStart = end;
            while (idStart > 0 && Character.isJavaIdentifierPart(code.charAt(idStart - 1))) {
                idStart--;
            }
            text.append(code, idStart, end).append(" : ").append(type).append('\n');
        }
        return new DisplayData(text.toString().strip());
    }

    private static int utf16(String code, int codePoints) {
        int n = code.codePointCount(0, code.length());
        return code.offsetByCodePoints(0, Math.max(0, Math.min(codePoints, n)));
    }

    private static int codePoints(String code, int utf16) {
        return code.codePointCount(0, Math.max(0, Math.min(utf16, code.length())));
    }

    // ------------------------------------------------------------------ interrupt, clear_output

    @Override
    public void interrupt() {
        interruptRequested = true;
        CellExecution c = executionProvider.control();
        if (c != null) {
            c.stop();
        }
    }

    /** Clears the current cell's output now, or (wait) just before its next output arrives. */
    public void clearOutput(boolean wait) {
        ShellReplyEnvironment env = currentEnv;
        if (env == null) {
            return;
        }
        System.out.flush();
        System.err.flush();
        env.publish(wait ? PublishClearOutput.BEFORE_NEXT_OUTPUT : PublishClearOutput.NOW);
    }

    /** Publishes a display (or an update of one) for the running cell; false when no cell is running. */
    boolean publish(DisplayData data, boolean update) {
        if (!getIO().display.isAttached()) {
            return false;
        }
        System.out.flush();
        System.err.flush();
        if (update) {
            getIO().display.updateDisplay(data);
        } else {
            getIO().display.display(data);
        }
        return true;
    }

    // ------------------------------------------------------------------ protocol handlers

    @Override
    protected synchronized void handleExecuteRequest(ShellReplyEnvironment env, Message<ExecuteRequest> message) {
        ExecuteRequest request = message.getContent();
        int count = executionCount.get();
        currentEnv = env;
        interruptRequested = false;
        lastTransformed = request.getCode();
        lastOutput = null;
        try {
            super.handleExecuteRequest(env, message);
        } finally {
            currentEnv = null;
            if (request.shouldStoreHistory() && !request.isSilent()) {
                history.add(count, request.getCode(), lastTransformed, lastOutput);
            }
        }
    }

    @Override
    protected void handleKernelInfoRequest(ShellReplyEnvironment env, Message<KernelInfoRequest> message) {
        env.setBusyDeferIdle();
        env.<KernelInfoReply>reply(new KernelInfo(Header.PROTOCOL_VERISON, name, version, getLanguageInfo(), getBanner(), getHelpLinks()));
    }

    @Override
    public String getBanner() {
        return "oneml Java kernel " + VERSION + " (JShell, Java " + Runtime.version() + ")\n"
                + "oneml, Tablesaw and XChart are imported; magics: %maven %jars %classpath %time %lsmagic";
    }

    @Override
    protected void handleHistoryRequest(ShellReplyEnvironment env, Message<HistoryRequest> message) {
        HistoryRequest request = message.getContent();
        env.setBusyDeferIdle();
        Set<HistoryManager.ResultFlag> flags = java.util.EnumSet.noneOf(HistoryManager.ResultFlag.class);
        if (request.includeOutput()) {
            flags.add(HistoryManager.ResultFlag.INCLUDE_OUTPUT);
        }
        if (!request.useRaw()) {
            flags.add(HistoryManager.ResultFlag.TRANSFORMED_INPUT);
        }
        List<HistoryEntry> entries = switch (request.getAccessType()) {
            case TAIL -> history.lookupTail(((HistoryRequest.Tail) request).getMaxReturnLength(), flags);
            case RANGE -> {
                HistoryRequest.Range r = (HistoryRequest.Range) request;
                yield history.lookupRange(r.getSessionIndex(), r.getStart(), r.getStop(), flags);
            }
            case SEARCH -> {
                HistoryRequest.Search s = (HistoryRequest.Search) request;
                if (s.filterUnique()) {
                    flags.add(HistoryManager.ResultFlag.UNIQUE);
                }
                yield history.search(s.getPattern(), s.getMaxReturnLength(), flags);
            }
        };
        env.reply(new HistoryContent(entries, request.includeOutput()));
    }

    /** kernel_info_reply with the {@code status} the protocol requires (the base leaves it out). */
    static final class KernelInfo extends KernelInfoReply {
        @SuppressWarnings("unused")
        private final String status = "ok";

        KernelInfo(String protocol, String name, String version, LanguageInfo info, String banner, List<HelpLink> links) {
            super(protocol, name, version, info, banner, links);
        }
    }

    /** history_reply: {@code status} and [session, line, input] or [session, line, [input, output]] rows. */
    static final class HistoryContent implements org.dflib.jjava.jupyter.messages.ContentType<HistoryContent> {
        @SuppressWarnings({"unused", "FieldCanBeLocal"})
        private final String status = "ok";
        private final List<List<Object>> history = new ArrayList<>();

        HistoryContent(List<HistoryEntry> entries, boolean withOutput) {
            for (HistoryEntry e : entries) {
                List<Object> row = new ArrayList<>();
                row.add(e.getSession());
                row.add(e.getCellNumber());
                if (withOutput) {
                    List<Object> io = new ArrayList<>();
                    io.add(e.getInput());
                    io.add(e.getOutput());
                    row.add(io);
                } else {
                    row.add(e.getInput());
                }
                history.add(row);
            }
        }

        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public org.dflib.jjava.jupyter.messages.MessageType<HistoryContent> getType() {
            return (org.dflib.jjava.jupyter.messages.MessageType) org.dflib.jjava.jupyter.messages.MessageType.HISTORY_REPLY;
        }
    }
}
