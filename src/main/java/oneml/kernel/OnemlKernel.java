package oneml.kernel;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import jdk.jshell.JShell;
import oneml.Train;
import oneml.sweep.SweepProgress;
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
 *
 * <p>This class is the kernel's life cycle and its answers to the protocol; the parts read on their own:
 * {@link CellEvaluator} runs cells (snippets, interrupts, the time limit, {@link TimeMagic}), {@link ErrorFormatter}
 * says how failures read, {@link CodeIntelligence} answers is_complete, complete and inspect, {@link History} and
 * {@link HistoryReply} keep and answer history, {@link KernelProcess} ties the process to its frontend.
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

    private final PrintStream kernelOut;
    private final PrintStream kernelErr;
    private final SnippetLoader loader;
    private final CellExecution.Provider executionProvider;
    private final History history;
    private final List<String> compilerOptions;
    private final List<String> startupCode;
    private final Set<String> classpath = new LinkedHashSet<>();
    private final ErrorFormatter errors;
    private final CellEvaluator evaluator;
    private final CodeIntelligence intelligence;
    private final CompletableFuture<JShell> shell;

    private volatile ShellReplyEnvironment currentEnv;
    private volatile String lastOutput;
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
        this.loader = new SnippetLoader(OnemlKernel.class.getClassLoader());
        this.executionProvider = new CellExecution.Provider(loader);
        this.classpath.addAll(b.classpath);
        Renderers.registerAll(renderer);
        Magics.registerAll(this, magicsRegistry);
        this.errors = new ErrorFormatter(errorStyler);
        this.evaluator = new CellEvaluator(executionProvider, magicParser, errors, b.timeoutMs);
        this.intelligence = new CodeIntelligence(this::shell, magicParser, magicsRegistry);
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

    // ------------------------------------------------------------------ start-up, shutdown, class path

    /** Runs the kernel on a Jupyter connection file until the frontend shuts it down. */
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: java -cp ... oneml.kernel.OnemlKernel CONNECTION_FILE");
            System.exit(2);
        }
        KernelProcess.quietLogs();
        System.setProperty("java.awt.headless", "true");
        KernelConnectionProperties props = KernelConnectionProperties.parse(Files.readString(Path.of(args[0]), StandardCharsets.UTF_8));
        OnemlKernel kernel = builder().fromEnvironment().build();
        SecureConnection connection = new SecureConnection(props);
        kernel.becomeHandlerForConnection(connection);
        kernel.onStartup();
        connection.connect();
        KernelProcess.watchParent(connection);
        connection.waitUntilClose();
        System.exit(0);
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
                    evaluator.trainingInterrupted(run);
                }
            }
        };
        Train.progress(() -> getIO().display.isAttached() ? new NotebookProgress(cell, System::nanoTime) : new ConsoleProgress(System.out));
        SweepProgress.display(() -> getIO().display.isAttached() ? new NotebookSweepProgress(cell) : null);
    }

    @Override
    public void onShutdown(boolean isRestarting) {
        Train.progress(null);
        SweepProgress.display(null);
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
                evaluator.evalCell(s, code);
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


    // ------------------------------------------------------------------ evaluation, errors, code intelligence

    @Override
    public Object evalRaw(String code) {
        return evaluator.evalRaw(shell(), code);
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
        return errors.format(e);
    }

    @Override
    public String isComplete(String code) {
        return intelligence.isComplete(code);
    }

    @Override
    public ReplacementOptions complete(String code, int cursor) {
        return intelligence.complete(code, cursor);
    }

    @Override
    public DisplayData inspect(String code, int cursor, boolean extraDetail) {
        return intelligence.inspect(code, cursor);
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

    // ------------------------------------------------------------------ interrupt, clear_output

    @Override
    public void interrupt() {
        evaluator.interrupt();
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
        evaluator.startCell(request.getCode());
        lastOutput = null;
        try {
            super.handleExecuteRequest(env, message);
        } finally {
            currentEnv = null;
            if (request.shouldStoreHistory() && !request.isSilent()) {
                history.add(count, request.getCode(), evaluator.lastTransformed(), lastOutput);
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
        env.setBusyDeferIdle();
        env.reply(HistoryReply.answer(history, message.getContent()));
    }
}
