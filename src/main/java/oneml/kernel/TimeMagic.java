package oneml.kernel;

import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * IPython's {@code %time CODE} (the rest of the line; on a line of its own, the rest of the cell) and
 * {@code %%time} (the whole cell): the wall time and, where the JVM reports it, the process's CPU time of the
 * measured code, printed after it ran. It wraps the evaluation itself, so the kernel handles it before the
 * other magics. With {@code %time CODE} the cell's following lines run after the measurement, untimed.
 */
record TimeMagic(String measured, String after) {
    private static final Pattern PATTERN = Pattern.compile("\\A\\s*(%%?)time\\b[ \\t]*([^\\r\\n]*)(?:\\R([\\s\\S]*))?\\z");

    /** What evaluates code (a cell's snippets in order, the value of the last expression). */
    interface Evaluation {
        Object eval(String code) throws Exception;
    }

    /** The timed parts of {@code code}, or null when the cell does not start with %time or %%time. */
    static TimeMagic parse(String code) {
        Matcher m = PATTERN.matcher(code);
        if (!m.matches()) {
            return null;
        }
        boolean cell = m.group(1).equals("%%");
        String line = m.group(2) == null ? "" : m.group(2);
        String body = m.group(3) == null ? "" : m.group(3);
        String measured = cell ? (line + "\n" + body) : (line.isBlank() ? body : line);
        String after = !cell && !line.isBlank() ? body : "";
        return new TimeMagic(measured, after);
    }

    /** Runs the measured code, prints its times (also when it failed), then the untimed rest; the last value is the cell's. */
    Object run(Evaluation evaluation) throws Exception {
        long cpu0 = processCpuNanos();
        long t0 = System.nanoTime();
        Object value;
        try {
            value = evaluation.eval(measured);
        } finally {
            long wall = System.nanoTime() - t0;
            long cpu = processCpuNanos() - cpu0;
            System.out.flush();
            System.out.println((cpu0 >= 0 ? "CPU time (process): " + duration(cpu) + "\n" : "") + "Wall time: " + duration(wall));
            System.out.flush();
        }
        if (!after.isBlank()) {
            value = evaluation.eval(after);
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
}
