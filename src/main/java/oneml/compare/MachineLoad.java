package oneml.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How much of the machine other processes used while a measurement ran, as a careful benchmark records it beside its
 * figures: a speed measured while something else kept the cores busy says more about that something than about the
 * method. Read from Linux's CPU counters ({@code /proc/stat} for the whole machine, {@code /proc/self/stat} for this
 * process) at the start and the end; elsewhere the share is unknown (NaN).
 *
 * @param otherShare  the fraction of all cores' time (0-1) that processes other than this one used in between
 * @param seconds     how long the measurement ran
 */
public record MachineLoad(double otherShare, double seconds) {
    /** Above this share of the machine used by others, speed figures are marked as measured on a busy machine. */
    public static final double BUSY = 0.2;

    /** No measurement (a method that did not run, or a platform without the counters). */
    public static final MachineLoad UNKNOWN = new MachineLoad(Double.NaN, Double.NaN);

    public boolean busy() {
        return otherShare > BUSY;
    }

    public boolean known() {
        return !Double.isNaN(otherShare);
    }

    /** Starts a measurement; {@link Sampler#stop()} ends it. */
    public static Sampler start() {
        return new Sampler(Counters.read(), System.nanoTime());
    }

    /** A measurement in progress. */
    public static final class Sampler {
        private final Counters begin;
        private final long startNanos;

        private Sampler(Counters begin, long startNanos) {
            this.begin = begin;
            this.startNanos = startNanos;
        }

        public MachineLoad stop() {
            Counters end = Counters.read();
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            if (begin == null || end == null || end.total() <= begin.total()) {
                return new MachineLoad(Double.NaN, seconds);
            }
            double total = end.total() - begin.total();
            double others = (end.busy() - begin.busy()) - (end.self() - begin.self());
            return new MachineLoad(Math.max(0, Math.min(1, others / total)), seconds);
        }
    }

    /** Clock ticks: all cores' time, the busy part of it, and this process's share (user + system). */
    private record Counters(long total, long busy, long self) {
        static Counters read() {
            try {
                String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
                long total = 0;
                for (int i = 1; i <= 8 && i < cpu.length; i++) { // user nice system idle iowait irq softirq steal
                    total += Long.parseLong(cpu[i]);
                }
                long idle = Long.parseLong(cpu[4]) + Long.parseLong(cpu[5]);
                String stat = Files.readString(Path.of("/proc/self/stat"));
                // fields after the command name (which may hold spaces and parentheses): state is field 3, utime 14, stime 15
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
                long self = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                return new Counters(total, total - idle, self);
            } catch (IOException | RuntimeException e) {
                return null; // not Linux, or an unexpected layout: the share stays unknown
            }
        }
    }

    @Override
    public String toString() {
        return known() ? String.format(Locale.ROOT, "other processes used %.0f%% of the CPUs over %.1f s%s", 100 * otherShare, seconds,
                busy() ? " (busy: speed figures unreliable)" : "") : "machine load unknown";
    }
}
