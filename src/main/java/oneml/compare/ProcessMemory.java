package oneml.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import oneml.model.NativeMemory;

/**
 * Process memory from Linux's /proc: the resident set's high-water mark (VmHWM), which counts native
 * tensors, autograd's saved activations and the JVM alike. Summing array sizes would miss most of that, and
 * count views twice. Elsewhere than Linux the figures are -1.
 */
public final class ProcessMemory {
    private ProcessMemory() {}

    /**
     * Hands freed native pages back to the OS, resets the high-water mark to the current RSS (writes 5 to
     * clear_refs) and returns the current RSS: the baseline the next peak is measured above. Without the trim,
     * pages freed by an earlier run would be reused without raising the RSS, and the next peak would read low.
     */
    public static long resetPeak() {
        NativeMemory.trim();
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | UnsupportedOperationException e) {
            // not Linux, or not permitted: the peak then includes whatever came before
        }
        return rss();
    }

    /**
     * Frees what the previous work left for the garbage collector and waits until the resident set stops falling,
     * then resets the high-water mark and returns the baseline. Native arrays are freed by cleaners after a
     * collection, and the JVM hands heap pages back in a background thread: a baseline read at once would be too
     * high, and the next figure too low (even below zero).
     */
    public static long settleAndResetPeak() {
        System.gc();
        System.runFinalization();
        long last = resetPeak();
        for (int i = 0; i < 20; i++) { // at most a second
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            long now = resetPeak();
            if (Math.abs(now - last) < (1 << 20)) {
                return now;
            }
            last = now;
        }
        return last;
    }

    /** The resident set's high-water mark since the last {@link #resetPeak()}, in bytes. */
    public static long peakRss() {
        return field("VmHWM");
    }

    /** The resident set now, in bytes. */
    public static long rss() {
        return field("VmRSS");
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }
}
