package oneml.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Process memory from Linux's /proc: the resident set's high-water mark (VmHWM), which counts native
 * tensors, autograd's saved activations and the JVM alike. Summing array sizes would miss most of that.
 */
final class Memory {
    private Memory() {}

    /** Resets the high-water mark to the current RSS (writes 5 to clear_refs) and returns the current RSS. */
    static long resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | UnsupportedOperationException e) {
            // not Linux, or not permitted: the peak then includes the load itself
        }
        return field("VmRSS");
    }

    static long peakRss() {
        return field("VmHWM");
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
