package oneml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import oneml.io.AtomicFiles;
import oneml.io.BadFileException;
import oneml.io.SafeTensors;
import oneml.io.StorageType;

/**
 * One saved point of a training run, enough to continue it exactly after a kill: the trainable values, AdamW's
 * moments and step counts, where the data stream stands, the best values so far and the metrics history.
 *
 * <p>On disk it is a folder {@code RUN/checkpoints/checkpoint-STEP} (Hugging Face's layout) that only ever appears
 * whole: it is written under a dot-name beside its final place, flushed to disk, then renamed. Its
 * {@code trainer_state.json} holds a SHA-256 of every other file, so a copy damaged later (a torn disk write, a
 * truncated copy) is recognised, reported and skipped in favour of the one before it.
 */
public final class RunCheckpoint {
    static final String FOLDER = "checkpoints";
    static final String STATE = "trainer_state.json";
    /** The SHA-256 of trainer_state.json, which cannot record its own. */
    static final String STATE_SUM = "trainer_state.json.sha256";
    static final String TRAINABLE = "trainable.safetensors";
    static final String OPTIMIZER = "optimizer.safetensors";
    static final String BEST = "best.safetensors";
    private static final String FORMAT = "oneml-trainer-state";
    private static final int VERSION = 1;
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().setPrettyPrinting().create();

    /**
     * The loop's counters and metrics at a step boundary.
     *
     * @param step           optimiser steps completed
     * @param epochsDrawn    how many shuffled epochs the batch stream has drawn
     * @param position       the next batch within the current epoch
     * @param bestStep       step of the best validation so far, -1 before any
     * @param history        the per-step metrics columns, by column name
     * @param evaluations    the validation columns, by column name
     */
    record Progress(int step, int epochsDrawn, int position, double best, int bestStep, int sinceBest, long tokensSeen,
            double elapsedSeconds, Map<String, double[]> history, Map<String, double[]> evaluations) {}

    /** What {@link #load} found: the arrays as plain values (the caller copies them into its own arrays). */
    record Loaded(Path dir, Progress progress, Map<String, String> settings, String dataFingerprint,
            Map<String, float[]> trainable, Map<String, float[]> firstMoments, Map<String, float[]> secondMoments,
            Map<String, Float> optimizerSteps, Map<String, float[]> best, List<String> notes) {}

    private RunCheckpoint() {}

    /** The folder of checkpoints inside a run's folder. */
    static Path folder(Path runDir) {
        return runDir.resolve(FOLDER);
    }

    /** The run folder {@code path} belongs to: itself, or the run holding it when it is one checkpoint. */
    public static Path runFolder(Path path) {
        Path abs = path.toAbsolutePath().normalize();
        return insideRun(abs) ? abs.getParent().getParent() : abs;
    }

    /** Whether {@code abs} is a checkpoint-STEP folder inside a run's checkpoints/ folder. */
    private static boolean insideRun(Path abs) {
        return abs.getFileName() != null && NAME.matcher(abs.getFileName().toString()).matches() && abs.getParent() != null
                && abs.getParent().getParent() != null && abs.getParent().getFileName().toString().equals(FOLDER);
    }

    /**
     * Whether {@code runOrCheckpoint} holds at least one checkpoint folder (complete or not): a retried run (a sweep's
     * trial) resumes when it does and starts afresh when it does not.
     */
    public static boolean exists(Path runOrCheckpoint) {
        return !candidates(runOrCheckpoint).isEmpty();
    }

    /**
     * Saves a checkpoint at {@code progress.step()} and deletes all but the newest {@code keep}. Returns its folder.
     */
    static Path save(Path runDir, int keep, Progress progress, Map<String, String> settings, String dataFingerprint,
            Map<String, NDArray> trainable, AdamW optimizer, Map<String, float[]> best) {
        Path checkpoints = folder(runDir).toAbsolutePath();
        Path target = checkpoints.resolve("checkpoint-" + progress.step());
        Path tmp = checkpoints.resolve(".checkpoint-" + progress.step() + "-" + System.nanoTime() + ".tmp");
        try {
            Files.createDirectories(tmp);
            Map<String, String> sums = new LinkedHashMap<>();
            SafeTensors.write(tmp.resolve(TRAINABLE), trainable, Map.of("format", "oneml-trainable"), StorageType.F32);
            Map<String, NDArray> moments = new LinkedHashMap<>();
            optimizer.firstMoments().forEach((name, a) -> moments.put("exp_avg/" + name, a));
            optimizer.secondMoments().forEach((name, a) -> moments.put("exp_avg_sq/" + name, a));
            SafeTensors.write(tmp.resolve(OPTIMIZER), moments, Map.of("format", "oneml-adamw"), StorageType.F32);
            List<String> files = new ArrayList<>(List.of(TRAINABLE, OPTIMIZER));
            if (best != null) {
                try (NDManager m = optimizer.manager().newSubManager()) {
                    Map<String, NDArray> arrays = new LinkedHashMap<>();
                    best.forEach((name, values) -> arrays.put(name, m.create(values, trainable.get(name).getShape())));
                    SafeTensors.write(tmp.resolve(BEST), arrays, Map.of("format", "oneml-best"), StorageType.F32);
                }
                files.add(BEST);
            }
            for (String f : files) {
                force(tmp.resolve(f));
                sums.put(f, sha256(tmp.resolve(f)));
            }
            JsonObject state = new JsonObject();
            state.addProperty("format", FORMAT);
            state.addProperty("version", VERSION);
            state.add("progress", GSON.toJsonTree(progress));
            state.add("settings", GSON.toJsonTree(settings));
            state.addProperty("data_fingerprint", dataFingerprint);
            state.add("optimizer_steps", GSON.toJsonTree(optimizer.stepCounts()));
            state.add("sha256", GSON.toJsonTree(sums));
            AtomicFiles.writeString(tmp.resolve(STATE), GSON.toJson(state));
            force(tmp.resolve(STATE));
            AtomicFiles.writeString(tmp.resolve(STATE_SUM), sha256(tmp.resolve(STATE)) + "\n");
            force(tmp.resolve(STATE_SUM));
            force(tmp);
            replace(tmp, target);
            force(checkpoints);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the checkpoint " + target + ": " + e.getMessage(), e);
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
        prune(checkpoints, keep);
        return target;
    }

    /**
     * The newest complete checkpoint of the run {@code runOrCheckpoint} (a run folder, or one checkpoint, in which case
     * that one or an older one), checking every file against its recorded SHA-256. Damaged or half-written ones are
     * skipped with a note saying why. Fails with a clear message when there is none to use.
     */
    static Loaded load(Path runOrCheckpoint, Map<String, Shape> shapes) {
        List<Path> candidates = candidates(runOrCheckpoint);
        if (candidates.isEmpty()) {
            throw new BadFileException(runOrCheckpoint, "no training checkpoint to resume from (expected "
                    + folder(runFolder(runOrCheckpoint)) + "/checkpoint-STEP folders, written by a run with checkpointEvery /"
                    + " --checkpoint-every)");
        }
        List<String> notes = new ArrayList<>();
        for (Path dir : candidates) {
            try {
                Loaded loaded = read(dir, shapes);
                List<String> all = new ArrayList<>(notes);
                all.add("resumed from " + dir + " (step " + loaded.progress().step() + ")");
                return new Loaded(loaded.dir(), loaded.progress(), loaded.settings(), loaded.dataFingerprint(), loaded.trainable(),
                        loaded.firstMoments(), loaded.secondMoments(), loaded.optimizerSteps(), loaded.best(), all);
            } catch (BadFileException e) {
                notes.add("skipped " + dir.getFileName() + ", it is incomplete or damaged: " + e.getMessage());
            }
        }
        throw new BadFileException(runOrCheckpoint, "no usable training checkpoint: " + String.join("; ", notes));
    }

    /** Checkpoint folders to try, newest first. */
    private static List<Path> candidates(Path runOrCheckpoint) {
        Path abs = runOrCheckpoint.toAbsolutePath().normalize();
        if (!insideRun(abs) && Files.isRegularFile(abs.resolve(STATE))) {
            return List.of(abs); // one checkpoint copied somewhere on its own
        }
        Path run = runFolder(abs);
        int upTo = insideRun(abs) ? step(abs) : Integer.MAX_VALUE;
        Path checkpoints = folder(run);
        if (!Files.isDirectory(checkpoints)) {
            return List.of();
        }
        int limit = upTo;
        try (Stream<Path> list = Files.list(checkpoints)) {
            return list.filter(Files::isDirectory)
                    .filter(p -> NAME.matcher(p.getFileName().toString()).matches())
                    .filter(p -> step(p) <= limit)
                    .sorted(Comparator.comparingInt(RunCheckpoint::step).reversed())
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + checkpoints + ": " + e.getMessage(), e);
        }
    }

    private static int step(Path checkpoint) {
        Matcher m = NAME.matcher(checkpoint.getFileName().toString());
        if (!m.matches()) {
            return -1;
        }
        try {
            return Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static Loaded read(Path dir, Map<String, Shape> shapes) {
        Path statePath = dir.resolve(STATE);
        if (!Files.isRegularFile(statePath)) {
            throw new BadFileException(dir, STATE + " is missing");
        }
        String recorded;
        try {
            recorded = Files.isRegularFile(dir.resolve(STATE_SUM)) ? Files.readString(dir.resolve(STATE_SUM), StandardCharsets.UTF_8).trim() : "";
        } catch (IOException e) {
            throw new BadFileException(dir.resolve(STATE_SUM), "cannot be read (" + oneml.io.JsonFiles.ioProblem(e) + ")", e);
        }
        if (!recorded.equals(sha256(statePath))) {
            throw new BadFileException(statePath, recorded.isEmpty() ? "has no " + STATE_SUM + " beside it"
                    : "does not match the SHA-256 recorded when it was saved");
        }
        JsonObject state;
        try {
            state = JsonParser.parseString(Files.readString(statePath, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException e) {
            throw new BadFileException(statePath, "cannot be read (" + oneml.io.JsonFiles.ioProblem(e) + ")", e);
        } catch (RuntimeException e) {
            throw new BadFileException(statePath, "is not valid JSON: " + oneml.io.JsonFiles.describe(e), e);
        }
        if (!state.has("format") || !FORMAT.equals(state.get("format").getAsString()) || !state.has("version")
                || state.get("version").getAsInt() != VERSION) {
            throw new BadFileException(statePath, "is not a oneml trainer state of version " + VERSION);
        }
        try {
            Map<String, String> sums = stringMap(state.getAsJsonObject("sha256"));
            for (String f : List.of(TRAINABLE, OPTIMIZER)) {
                if (!sums.containsKey(f)) {
                    throw new BadFileException(statePath, "no checksum for " + f);
                }
            }
            for (var e : sums.entrySet()) {
                Path file = dir.resolve(e.getKey());
                if (!Files.isRegularFile(file)) {
                    throw new BadFileException(file, "is missing");
                }
                if (!sha256(file).equals(e.getValue())) {
                    throw new BadFileException(file, "does not match the SHA-256 recorded when it was saved");
                }
            }
            Progress progress = GSON.fromJson(state.get("progress"), Progress.class);
            checkProgress(statePath, progress);
            Map<String, float[]> trainable = floats(dir.resolve(TRAINABLE), "", shapes);
            Map<String, float[]> m = floats(dir.resolve(OPTIMIZER), "exp_avg/", shapes);
            Map<String, float[]> v = floats(dir.resolve(OPTIMIZER), "exp_avg_sq/", shapes);
            Map<String, float[]> best = sums.containsKey(BEST) ? floats(dir.resolve(BEST), "", shapes) : null;
            Map<String, Float> steps = new LinkedHashMap<>();
            state.getAsJsonObject("optimizer_steps").entrySet().forEach(e -> steps.put(e.getKey(), e.getValue().getAsFloat()));
            if (!steps.keySet().equals(shapes.keySet())) {
                throw new BadFileException(statePath, "optimizer step counts are for other parameters");
            }
            return new Loaded(dir, progress, stringMap(state.getAsJsonObject("settings")), state.get("data_fingerprint").getAsString(),
                    trainable, m, v, steps, best, List.of());
        } catch (BadFileException e) {
            throw e;
        } catch (RuntimeException e) { // a field missing or of the wrong type in a state that passed its checksums
            throw new BadFileException(statePath, "a field of the trainer state is missing or has the wrong type", e);
        }
    }

    /** The counters and columns a resumed loop relies on are all there and agree with each other. */
    private static void checkProgress(Path statePath, Progress p) {
        boolean columns = p != null && p.history() != null && p.evaluations() != null;
        if (columns) {
            for (String c : List.of("step", "loss", "learning_rate", "grad_norm", "tokens", "tokens_per_s", "elapsed_s")) {
                columns &= p.history().get(c) != null && p.history().get(c).length == p.step();
            }
            for (String c : List.of("step", "val_loss", "val_perplexity")) {
                columns &= p.evaluations().get(c) != null && p.evaluations().get(c).length == p.evaluations().get("step").length;
            }
        }
        if (!columns || p.step() < 0 || p.epochsDrawn() < 0 || p.position() < 0) {
            throw new BadFileException(statePath, "the trainer state's counters or metrics are missing or disagree");
        }
    }

    /**
     * Deletes the checkpoints of {@code runDir} newer than {@code step}: a run resumed from an older checkpoint
     * replaces the future those held (and damaged ones go too), so no newer folder can shadow its own saves.
     */
    static void dropNewerThan(Path runDir, int step) {
        Path checkpoints = folder(runDir);
        if (!Files.isDirectory(checkpoints)) {
            return;
        }
        try (Stream<Path> list = Files.list(checkpoints)) {
            for (Path p : list.filter(p -> step(p) > step).toList()) {
                AtomicFiles.deleteTree(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot tidy " + checkpoints + ": " + e.getMessage(), e);
        }
    }

    /** The newest checkpoint folder name in {@code runDir}, if it has any (complete or not). */
    static Optional<String> newest(Path runDir) {
        List<Path> all = candidates(runDir);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0).getFileName().toString());
    }

    /**
     * The arrays of {@code file} whose names start with {@code prefix}, by the name after it; they must be exactly
     * the trainable parameters, with their shapes.
     */
    private static Map<String, float[]> floats(Path file, String prefix, Map<String, Shape> shapes) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (NDManager m = oneml.model.Engines.rootManager().newSubManager()) {
            SafeTensors.read(file, m).forEach((name, array) -> {
                if (name.startsWith(prefix) && !(prefix.isEmpty() && name.contains("/"))) {
                    String key = name.substring(prefix.length());
                    Shape expected = shapes.get(key);
                    if (expected == null) {
                        throw new BadFileException(file, "holds '" + key + "', which is not a trainable parameter of this model"
                                + " (was the run made with another method or config?)");
                    }
                    if (!expected.equals(array.getShape())) {
                        throw new BadFileException(file, "'" + key + "' has shape " + array.getShape() + ", the model's is "
                                + expected + " (was the run made with another config?)");
                    }
                    out.put(key, array.toFloatArray());
                }
            });
        }
        if (!out.keySet().equals(shapes.keySet())) {
            List<String> missing = new ArrayList<>(shapes.keySet());
            missing.removeAll(out.keySet());
            throw new BadFileException(file, "lacks " + missing.size() + " trainable parameters, e.g. " + missing.get(0));
        }
        return out;
    }

    private static Map<String, String> stringMap(JsonObject o) {
        Map<String, String> out = new LinkedHashMap<>();
        o.entrySet().forEach(e -> out.put(e.getKey(), e.getValue().getAsString()));
        return out;
    }

    /** Puts {@code tmp} in {@code target}'s place; an older folder of the same name (a damaged one) goes first. */
    private static void replace(Path tmp, Path target) throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            old = target.resolveSibling("." + target.getFileName() + "-" + System.nanoTime() + ".old");
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target);
        }
        if (old != null) {
            AtomicFiles.deleteTree(old);
        }
    }

    /** Deletes all but the newest {@code keep} checkpoints, and what a kill in the middle of a save left behind. */
    private static void prune(Path checkpoints, int keep) {
        try (Stream<Path> list = Files.list(checkpoints)) {
            List<Path> all = list.toList();
            List<Path> complete = all.stream().filter(p -> step(p) >= 0).sorted(Comparator.comparingInt(RunCheckpoint::step).reversed()).toList();
            for (int i = keep; i < complete.size(); i++) {
                AtomicFiles.deleteTree(complete.get(i));
            }
            for (Path p : all) {
                String name = p.getFileName().toString();
                if (name.startsWith(".checkpoint-") && (name.endsWith(".tmp") || name.endsWith(".old"))) {
                    AtomicFiles.deleteTree(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot tidy " + checkpoints + ": " + e.getMessage(), e);
        }
    }

    /** Flushes a file (or a folder's entries) to the disk, so a power loss cannot leave a renamed but empty file. */
    private static void force(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (!Files.isDirectory(path)) { // some file systems cannot sync a folder; the files themselves are synced
                throw e;
            }
        }
    }

    static String sha256(Path file) {
        try (var in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new BadFileException(file, "unreadable (" + e.getMessage() + ")", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A digest of the training examples in order, so a resumed run can tell it is fed the same data. */
    static String fingerprint(List<TokenizedExample> examples) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(8);
            for (TokenizedExample e : examples) {
                for (long[] part : new long[][] {e.ids(), e.labels(), {Long.MIN_VALUE}}) {
                    for (long v : part) {
                        digest.update(buf.clear().putLong(v).array());
                    }
                }
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
