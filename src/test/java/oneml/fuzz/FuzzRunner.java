package oneml.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs a {@link FuzzTarget} over mutated inputs and checks the contract every reader of users' files keeps: no
 * crash, no hang, bounded memory, and every rejection an {@link IllegalArgumentException} (oneml's
 * {@code BadFileException} is one) whose message names the file and shows no Java internals. Each input runs on a
 * worker thread with a deadline, and the heap bytes the reader allocates for it are counted.
 *
 * <p>{@code -Doneml.fuzz.inputs=N} and {@code -Doneml.fuzz.seed=S} run longer or other campaigns locally. An input
 * that breaks the contract is saved under target/fuzz-findings/NAME/; fix the reader, then copy the file into
 * src/test/resources/fuzz/NAME/ as regress-*.EXT so the replay test keeps it fixed.
 */
public final class FuzzRunner {
    public static final int INPUTS = Integer.getInteger("oneml.fuzz.inputs", 10_000);
    static final long SEED = Long.getLong("oneml.fuzz.seed", 20261204L);
    /** Far above any honest parse of these small inputs, far below a hang. */
    static final long DEADLINE_MS = 5_000;
    /** Heap bytes one input may cost the reader; the inputs are kilobytes, so more means an unchecked size. */
    static final long MAX_ALLOCATED_BYTES = 64L * 1024 * 1024;

    private static final Pattern INTERNALS = Pattern.compile(
            "[A-Za-z]+(Exception|Error)\\b|java\\.(lang|io|nio|util|net)\\.|javax\\.|com\\.google\\.gson|\\n\\s*at |\\tat "
                    + "|Strictness|LENIENT|Troubleshooting|github\\.com/google|lambda\\$");

    private FuzzRunner() {}

    /** The corpus files of a target: src/test/resources/fuzz/NAME/*. */
    public static List<Path> corpusFiles(FuzzTarget target) {
        try {
            var url = FuzzRunner.class.getResource("/fuzz/" + target.name());
            if (url == null) {
                throw new IllegalStateException("no corpus folder src/test/resources/fuzz/" + target.name());
            }
            try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
                return files.filter(Files::isRegularFile).sorted().toList();
            }
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@link #INPUTS} mutated inputs through the target; fails listing the first problems found. */
    public static void fuzz(FuzzTarget target, Path work) throws Exception {
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) { // memory, not disk: 10,000 small writes take milliseconds, not seconds
            Path dir = Files.createTempDirectory(shm, "oneml-fuzz-");
            try {
                fuzzIn(target, dir);
            } finally {
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path f : files.toList()) {
                        Files.deleteIfExists(f);
                    }
                }
                Files.deleteIfExists(dir);
            }
        } else {
            fuzzIn(target, work);
        }
    }

    private static void fuzzIn(FuzzTarget target, Path work) throws Exception {
        long start = System.nanoTime();
        List<byte[]> corpus = new ArrayList<>();
        for (Path p : corpusFiles(target)) {
            corpus.add(Files.readAllBytes(p));
        }
        Fuzzer fuzzer = new Fuzzer(SEED ^ target.name().hashCode(), corpus, target.format());
        List<String> problems = new ArrayList<>();
        int accepted = 0;
        try (Worker worker = new Worker()) {
            for (int i = 0; i < INPUTS && problems.size() < 5; i++) {
                byte[] input = fuzzer.next();
                String problem = worker.run(target, work, input);
                if (problem == ACCEPTED) {
                    accepted++;
                } else if (problem != null) {
                    problems.add("input " + i + " (" + save(target, i, input) + "): " + problem);
                }
            }
        }
        System.out.printf(java.util.Locale.ROOT, "fuzz %s: %d inputs, %d accepted, %d problems, %.1f s%n",
                target.name(), INPUTS, accepted, problems.size(), (System.nanoTime() - start) / 1e9);
        if (!problems.isEmpty()) {
            fail(target.name() + ": " + problems.size() + " inputs broke the contract:\n" + String.join("\n", problems));
        }
        // a fuzzer whose inputs are all rejected at the first byte tests nothing beyond it
        assertTrue(accepted < INPUTS, target.name() + " accepted every input: the mutations do not reach the checks");
    }

    /** Replays the corpus: ok-* files must be accepted; every other file accepted or rejected by the contract. */
    public static void replay(FuzzTarget target, Path work) throws Exception {
        List<String> problems = new ArrayList<>();
        try (Worker worker = new Worker()) {
            for (Path file : corpusFiles(target)) {
                String problem = worker.run(target, work, Files.readAllBytes(file));
                boolean mustLoad = file.getFileName().toString().startsWith("ok-");
                if (problem != null && problem != ACCEPTED || mustLoad && problem != ACCEPTED) {
                    problems.add(file.getFileName() + ": " + (problem == null ? "rejected, but it is a valid seed" : problem));
                }
            }
        }
        if (!problems.isEmpty()) {
            fail(target.name() + ":\n" + String.join("\n", problems));
        }
    }

    /** Null when the rejection keeps the contract, else what is wrong with it. */
    public static String checkRejection(FuzzTarget target, Throwable thrown) {
        if (!(thrown instanceof IllegalArgumentException)) {
            return "leaked " + thrown.getClass().getName() + ": " + thrown.getMessage();
        }
        String m = thrown.getMessage();
        if (m == null || m.isBlank()) {
            return "a rejection without a message";
        }
        if (!m.contains(target.mention())) {
            return "the message does not name " + target.mention() + ": " + m;
        }
        var internals = INTERNALS.matcher(m);
        if (internals.find()) {
            return "the message shows internals ('" + internals.group() + "'): " + m;
        }
        if (m.length() > 1500) {
            return "a message of " + m.length() + " characters: " + m.substring(0, 200) + "...";
        }
        return null;
    }

    private static final String ACCEPTED = "accepted";
    /** {@code -Doneml.fuzz.show=N} prints the first N distinct rejection messages, to read what users would see. */
    private static final int SHOW = Integer.getInteger("oneml.fuzz.show", 0);
    private static final java.util.Map<String, Integer> SHOWN = new java.util.concurrent.ConcurrentHashMap<>();
    private static final java.util.Set<String> SHOWN_SHAPES = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static String save(FuzzTarget target, int index, byte[] input) {
        try {
            Path dir = Files.createDirectories(Path.of("target", "fuzz-findings", target.name()));
            String ext = target.fileName().contains(".") ? target.fileName().substring(target.fileName().lastIndexOf('.')) : ".txt";
            return Files.write(dir.resolve("regress-" + SEED + "-" + index + ext), input).toString();
        } catch (IOException e) {
            return "not saved: " + e.getMessage();
        }
    }

    /** One reader thread, replaced when an input hangs it. */
    private static final class Worker implements AutoCloseable {
        private ExecutorService executor = newExecutor();

        private static ExecutorService newExecutor() {
            return Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "fuzz-reader");
                t.setDaemon(true);
                return t;
            });
        }

        /** {@link #ACCEPTED}, null for a clean rejection, or the problem. */
        String run(FuzzTarget target, Path work, byte[] input) throws IOException, InterruptedException {
            Path file = work.resolve(target.fileName());
            Files.write(file, input);
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            Future<Object[]> result = executor.submit(() -> {
                long before = threads.getCurrentThreadAllocatedBytes();
                Throwable thrown = null;
                try {
                    target.reader().read(file);
                } catch (Throwable t) { // Errors too: an OutOfMemoryError or StackOverflowError is a finding
                    thrown = t;
                }
                return new Object[] {thrown, threads.getCurrentThreadAllocatedBytes() - before};
            });
            Object[] outcome;
            try {
                outcome = result.get(DEADLINE_MS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                result.cancel(true);
                executor.shutdownNow();
                executor = newExecutor();
                return "no answer within " + DEADLINE_MS + " ms (a hang)";
            } catch (ExecutionException e) {
                return "the worker failed: " + e.getCause();
            }
            long allocated = (Long) outcome[1];
            if (allocated > MAX_ALLOCATED_BYTES) {
                return "allocated " + allocated / (1024 * 1024) + " MiB for a " + input.length + "-byte input";
            }
            if (outcome[0] instanceof Throwable t && t.getMessage() != null && SHOWN.getOrDefault(target.name(), 0) < SHOW) {
                String m = t.getMessage().replace(work.toString(), "");
                String shape = m.replaceAll("\\d+", "N");
                if (SHOWN_SHAPES.add(target.name() + shape.substring(0, Math.min(70, shape.length())))) {
                    SHOWN.merge(target.name(), 1, Integer::sum);
                    System.out.println("  " + target.name() + " rejects: " + m);
                }
            }
            return outcome[0] == null ? ACCEPTED : checkRejection(target, (Throwable) outcome[0]);
        }

        @Override
        public void close() {
            executor.shutdownNow();
        }
    }
}
