package oneml.kernel;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import jdk.jshell.execution.DirectExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;
import oneml.train.Trainer;

/**
 * Runs JShell's snippets in this JVM on one long-lived cell thread (thread-local state such as libtorch's grad
 * mode stays put between cells) and keeps each result as the object itself: JShell sees only a key, the kernel
 * takes the object by that key and renders it (a Tablesaw table as HTML, a chart as PNG), in the tradition of
 * IJava. The original exception of a failing snippet is kept too, so the notebook shows its real class and stack.
 *
 * <p>{@link #stop()} interrupts the cell thread and, when the code ignores interrupts, stops it forcibly after a
 * grace period. A training loop ({@link Trainer#isTrainingOn}) gets a longer one, {@link #TRAINING_GRACE_MS}:
 * it stops by itself after the step in flight, and stopping it forcibly could leave the weights half updated.
 * A second stop request ends the grace at once. {@code stop()} itself never blocks: it runs on the kernel's
 * control thread, which must stay free to answer (the interrupt_reply, a shutdown).
 */
final class CellExecution extends DirectExecutionControl {
    /** How long an interrupted cell gets to notice before it is stopped. */
    static final long GRACE_MS = 1000;
    /** How long an interrupted training loop gets to finish its current step (and abandon a validation). */
    static final long TRAINING_GRACE_MS = 60_000;

    private final SnippetLoader loader;
    private final Map<String, Object> results = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final ExecutorService cellThread;
    private volatile Thread running;
    /** Counts snippet runs, so a late forced stop never hits a later snippet on the same thread. */
    private final AtomicLong invocations = new AtomicLong();
    private volatile boolean stopRequested;
    private volatile boolean forced;
    private volatile Thread stopper;
    private volatile Throwable lastFailure;

    CellExecution(SnippetLoader loader) {
        super(loader);
        this.loader = loader;
        this.cellThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(null, r, "oneml-cell", 0);
            t.setDaemon(true);
            t.setContextClassLoader(loader.classLoader());
            return t;
        });
    }

    /** A provider JShell's builder takes; {@link #control()} is the instance it made. */
    static final class Provider implements ExecutionControlProvider {
        private final SnippetLoader loader;
        private volatile CellExecution control;

        Provider(SnippetLoader loader) {
            this.loader = loader;
        }

        @Override
        public String name() {
            return "oneml-local";
        }

        @Override
        public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
            control = new CellExecution(loader);
            return control;
        }

        CellExecution control() {
            return control;
        }
    }

    @Override
    protected String invoke(Method doit) throws Exception {
        stopRequested = false;
        forced = false;
        lastFailure = null;
        Future<Object> future = cellThread.submit(() -> {
            invocations.incrementAndGet();
            running = Thread.currentThread();
            try {
                return doit.invoke(null);
            } finally {
                running = null;
                Thread.interrupted(); // an interrupt that came late must not hit the next cell
            }
        });
        Object value;
        try {
            value = future.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof InvocationTargetException ite && ite.getCause() != null) {
                cause = ite.getCause();
            }
            if (stopRequested && (cause instanceof ThreadDeath || cause instanceof InterruptedException)) {
                throw new ExecutionControl.StoppedException();
            }
            lastFailure = cause;
            throw new InvocationTargetException(cause);
        }
        String key = "oneml#" + ids.incrementAndGet();
        if (value != null) {
            results.put(key, value);
        }
        return key;
    }

    /** The object a snippet returned, removed from the store; null for null or an unknown key. */
    Object takeResult(String key) {
        return key == null ? null : results.remove(key);
    }

    void clearResults() {
        results.clear();
    }

    /** The exception the last failing snippet threw (not JShell's copy of it). */
    Throwable lastFailure() {
        return lastFailure;
    }

    boolean isRunning() {
        return running != null;
    }

    boolean wasStopped() {
        return stopRequested;
    }

    /** Whether the last stop had to end the snippet forcibly (it ignored the interrupt through its grace period). */
    boolean wasForced() {
        return forced;
    }

    /**
     * Interrupts the running snippet and returns at once; a watcher thread stops it forcibly if it is still the
     * same snippet after the grace period. Called again while that watcher waits, it stops the snippet now.
     */
    @Override
    public synchronized void stop() {
        long invocation = invocations.get(); // read first: a snippet starting now is not the one to stop
        Thread t = running;
        if (t == null) {
            return;
        }
        Thread waiting = stopper;
        if (stopRequested && waiting != null && waiting.isAlive()) {
            waiting.interrupt(); // the second request: no more grace
            return;
        }
        stopRequested = true;
        t.interrupt();
        long grace = Trainer.isTrainingOn(t) ? TRAINING_GRACE_MS : GRACE_MS;
        Thread watcher = new Thread(() -> {
            long deadline = System.currentTimeMillis() + grace;
            while (isStill(t, invocation) && System.currentTimeMillis() < deadline) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    break; // asked to stop at once
                }
            }
            if (isStill(t, invocation)) {
                forceStop(t);
            }
        }, "oneml-cell-stop");
        watcher.setDaemon(true);
        stopper = watcher;
        watcher.start();
    }

    private boolean isStill(Thread t, long invocation) {
        return running == t && invocations.get() == invocation;
    }

    @SuppressWarnings({"deprecation", "removal"})
    private void forceStop(Thread t) {
        forced = true;
        try {
            t.stop(); // code that ignores interrupts (a long native loop) still ends
        } catch (UnsupportedOperationException e) {
            // Java 20+: only the interrupt is possible
        }
    }

    @Override
    public void close() {
        cellThread.shutdownNow();
        results.clear();
        super.close();
    }

    ClassLoader classLoader() {
        return loader.classLoader();
    }
}
