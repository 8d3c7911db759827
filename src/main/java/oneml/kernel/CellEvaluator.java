package oneml.kernel;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.jshell.DeclarationSnippet;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.CompletionInfo;
import oneml.kernel.OnemlKernel.CellInterrupted;
import oneml.kernel.OnemlKernel.EvaluationError;
import oneml.train.TrainingRun;
import org.dflib.jjava.jupyter.kernel.magic.MagicParser;

/**
 * Runs a cell: resolves its magics, splits it into JShell snippets and evaluates them in order (the value of the
 * last expression is the cell's), and turns what JShell reports (a rejected snippet, an exception, a stopped cell
 * thread) into the exceptions the kernel shows. A failing snippet stops the rest of the cell, as a stop request
 * does between snippets.
 *
 * <p>The time limit (IJAVA_TIMEOUT) is watched per snippet by a thread that counts only the time the snippet's
 * code runs, not the time JShell spends compiling it.
 */
final class CellEvaluator {
    private final CellExecution.Provider executionProvider;
    private final MagicParser magicParser;
    private final ErrorFormatter errors;
    private final long timeoutMs;

    private volatile boolean interruptRequested;
    private volatile boolean timedOut;
    private volatile String lastTransformed;
    /** A training run of the current cell that an interrupt stopped (for the interrupt's message). */
    private volatile TrainingRun interruptedRun;

    CellEvaluator(CellExecution.Provider executionProvider, MagicParser magicParser, ErrorFormatter errors, long timeoutMs) {
        this.executionProvider = executionProvider;
        this.magicParser = magicParser;
        this.errors = errors;
        this.timeoutMs = timeoutMs;
    }

    /** A new cell begins: earlier stop requests no longer apply, and its input counts as the transformed one until magics resolve. */
    void startCell(String code) {
        interruptRequested = false;
        lastTransformed = code;
    }

    /** The last cell's input with its magics resolved (history's transformed input). */
    String lastTransformed() {
        return lastTransformed;
    }

    /** Stops the running cell (the stop button): its code is interrupted, the snippets after it do not run. */
    void interrupt() {
        interruptRequested = true;
        CellExecution c = executionProvider.control();
        if (c != null) {
            c.stop();
        }
    }

    /** A training run of this cell ended because of an interrupt; the interrupt's message says after which step. */
    void trainingInterrupted(TrainingRun run) {
        interruptedRun = run;
    }

    /** Evaluates a cell, %time and %%time included; an Error the cell threw comes back as an {@link EvaluationError}. */
    Object evalRaw(JShell s, String code) {
        CellExecution control = executionProvider.control();
        interruptedRun = null;
        try {
            TimeMagic time = TimeMagic.parse(code);
            if (time != null) {
                return time.run(c -> evalCell(s, c));
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

    /** Splits a cell into snippets and evaluates them in order; the value of the last expression is the cell's. */
    Object evalCell(JShell s, String code) throws Exception {
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
                throw errors.compilationError(s, snippet);
            }
            if (control != null && control.wasStopped()) {
                if (timedOut) {
                    throw new TimeoutException("stopped after the time limit of " + timeoutMs + " ms (IJAVA_TIMEOUT)");
                }
                throw interrupted(control);
            }
            if (event.exception() != null) {
                throw runtimeError(event.exception(), control);
            }
            if (event.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED && snippet instanceof DeclarationSnippet d) {
                throw errors.unresolved(s, d);
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
        AtomicBoolean done = new AtomicBoolean();
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

    /** The exception the cell's code threw, as itself (JShell would only give its class name and message). */
    private static Exception runtimeError(JShellException e, CellExecution control) {
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
}
