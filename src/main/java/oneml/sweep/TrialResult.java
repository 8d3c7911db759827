package oneml.sweep;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import oneml.compare.Candidate;
import oneml.compare.Comparison;
import oneml.compare.MethodResult;
import oneml.io.AtomicFiles;
import oneml.io.BadFileException;
import oneml.io.JsonFields;
import oneml.io.JsonFiles;

/**
 * What one trial measured: the trial, its comparison row ({@link MethodResult}: trainable parameters, peak memory,
 * steady tokens/s, losses, accuracy, training seconds, the share of the CPUs others used, the loss curves), and where
 * and how long it ran. Saved as {@code trials/<id>.json}, atomically, as soon as the trial ends.
 *
 * @param host        the machine the trial ran on
 * @param pid         the process that trained it
 * @param wallSeconds from the child's start to its result, loading and scoring included
 * @param retryable   the trial did not end by itself (its JVM died or was killed): a sweep started again runs it again,
 *                    from its last resumable checkpoint
 */
public record TrialResult(Trial trial, MethodResult result, String host, long pid, double wallSeconds, boolean retryable) {

    /** OK, or FAILED (an error, a diverged loss, a refused combination, a JVM that died). */
    public enum Status { OK, FAILED }

    public Status status() {
        return result.status() == MethodResult.Status.OK ? Status.OK : Status.FAILED;
    }

    /** The reason a trial failed ("" when it did not). */
    public String message() {
        return switch (result.status()) {
            case OK -> "";
            case DIVERGED -> "diverged" + (result.message().isEmpty() ? "" : ": " + result.message());
            default -> result.message();
        };
    }

    /** A FAILED result without numbers. */
    static TrialResult failed(Trial trial, String why, String host, long pid, double wallSeconds, boolean retryable) {
        Candidate c = new Candidate(trial.name(), null, trial.learningRate());
        MethodResult r = MethodResult.notRun(c, MethodResult.Status.FAILED, why);
        return new TrialResult(trial, r, host, pid, wallSeconds, retryable);
    }

    void save(Path file) {
        AtomicFiles.writeString(file, toJsonText());
    }

    /** The result file's text (NaN written as NaN, which the loaders read back). */
    String toJsonText() {
        return new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(toJson());
    }

    static TrialResult load(Path file) {
        JsonObject o = JsonFiles.readObject(file, "sweep trial result", JsonFiles.SMALL_FILE_BYTES);
        try {
            return fromJson(o);
        } catch (RuntimeException e) {
            throw new BadFileException(file, "not a sweep trial result (" + e.getMessage() + "); delete it to run the trial again");
        }
    }

    JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.add("trial", trial.toJson());
        o.addProperty("status", status().name()); // for people reading the file; the result's own status is what loads
        o.addProperty("message", message());
        o.addProperty("host", host);
        o.addProperty("pid", pid);
        o.addProperty("wall_s", wallSeconds);
        o.addProperty("retryable", retryable);
        o.add("result", new Comparison("", "", trial.steps(), 0, Double.NaN, List.of(result), Map.of()).toJson());
        return o;
    }

    static TrialResult fromJson(JsonObject o) {
        Trial trial = Trial.fromJson(o.getAsJsonObject("trial"));
        MethodResult r = Comparison.fromJson(o.getAsJsonObject("result")).results().get(0);
        return new TrialResult(trial, r, JsonFields.string(o, "host", ""), JsonFields.has(o, "pid") ? o.get("pid").getAsLong() : -1,
                JsonFields.number(o, "wall_s", Double.NaN), JsonFields.bool(o, "retryable", false));
    }

    /** True for files a sweep started again can trust: the trial ended by itself (OK or a failure of its own). */
    static boolean isFinal(Path file) {
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try {
            return !load(file).retryable();
        } catch (RuntimeException e) {
            return false; // unreadable: run it again
        }
    }

    @Override
    public String toString() {
        return trial.id() + " " + status() + (status() == Status.OK ? String.format(java.util.Locale.ROOT,
                ": final train loss %.4f, best val loss %.4f, accuracy %.3f, %,.0f tok/s, peak %.0f MB, %.1f s on %s/%d", result.finalTrainLoss(),
                result.bestValLoss(), result.metric(), result.tokensPerSecond(), result.peakBytes() / 1e6, wallSeconds, host, pid)
                : ": " + message());
    }
}
