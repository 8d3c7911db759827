package oneml.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import oneml.model.CausalLM;
import oneml.model.Engines;
import oneml.model.TrainableModel;
import oneml.peft.PeftModel;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/**
 * The training loop. Per optimiser step: a scratch manager, forward and backward over each micro-batch
 * (or block-by-block recompute with gradient checkpointing), global-norm clipping, AdamW with the
 * schedule's rate, a metrics row, and listeners told. Validation every {@code evalEvery} steps keeps the
 * best trainable values; NaN stops the run with the best values intact.
 *
 * <p>Interrupting the thread (a notebook's stop button) ends the run between steps: the current step finishes
 * (an interrupted validation is abandoned between batches), so the trainable values are never half updated,
 * and {@link #run()} returns normally with {@link StopReason#INTERRUPTED}.
 */
public final class Trainer {
    /** Threads inside {@link #run()} now; the Jupyter kernel gives them time to reach a step boundary. */
    private static final java.util.Set<Thread> TRAINING = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final TrainableModel model;
    private final List<TokenizedExample> train;
    private final List<TokenizedExample> validation;
    private final TrainConfig config;
    private final List<TrainingListener> listeners;

    public Trainer(TrainableModel model, List<TokenizedExample> train, List<TokenizedExample> validation, TrainConfig config,
            List<TrainingListener> listeners) {
        if (train.isEmpty()) {
            throw new IllegalArgumentException("the training set is empty");
        }
        if (model.trainableParameters().isEmpty()) {
            throw new IllegalArgumentException("the model has no trainable parameters: is an adapter active? An adapter"
                    + " loaded with Peft.load(base, dir) is frozen for inference, as in PEFT; load it with"
                    + " Peft.load(base, dir, true) to continue training it");
        }
        this.model = model;
        this.train = train;
        this.validation = validation;
        this.config = config;
        this.listeners = List.copyOf(listeners);
    }

    /** Optimiser steps the run will take. */
    public int totalSteps() {
        if (config.steps() > 0) {
            return config.steps();
        }
        int perEpoch = (int) Math.ceil((double) train.size() / config.batchSize() / config.gradientAccumulation());
        return Math.max(1, perEpoch * config.epochs());
    }

    /** Whether a training loop runs on {@code thread}: an interrupt then stops it after the current step. */
    public static boolean isTrainingOn(Thread thread) {
        return TRAINING.contains(thread);
    }

    public TrainingRun run() {
        Thread self = Thread.currentThread();
        boolean outermost = TRAINING.add(self);
        try {
            return train();
        } finally {
            if (outermost) {
                TRAINING.remove(self);
            }
        }
    }

    private TrainingRun train() {
        CausalLM lm = model.model();
        Map<String, NDArray> params = model.trainableParameters();
        List<NDArray> paramList = new ArrayList<>(params.values());
        int total = totalSteps();
        Engines.seed(config.seed());
        BatchStream batches = new BatchStream(train, config.batchSize(), new Random(config.seed()));
        boolean resumable = config.checkpointEvery() > 0 || config.resumeFrom() != null;
        String dataFingerprint = resumable ? RunCheckpoint.fingerprint(train) : null;
        Map<String, String> settings = resumable ? settings() : null; // digests the validation data once per run
        Metrics metrics = new Metrics();

        StopReason reason = StopReason.COMPLETED;
        String message = "";
        List<String> notes = new ArrayList<>();
        long start = System.nanoTime();
        int step = 0;
        boolean checkpointing = config.gradientCheckpointing() || model.needsGradientCheckpointing();
        try (AdamW optimizer = new AdamW(params, lm.manager(), 0.9, 0.999, 1e-8, config.weightDecay())) {
            if (config.resumeFrom() != null) {
                step = resume(params, optimizer, batches, metrics, settings, dataFingerprint, notes);
            } else if (config.checkpointEvery() > 0) {
                refuseEarlierCheckpoints(config.outputDir());
            }
            listeners.forEach(l -> l.onStart(total, config, model.trainableParameterCount()));
            notes.forEach(note -> listeners.forEach(l -> l.onNote(note)));
            model.setTraining(true);
            optimizer.zeroGradients();
            for (; step < total; step++) {
                if (Thread.currentThread().isInterrupted()) {
                    reason = StopReason.INTERRUPTED;
                    message = "interrupted after step " + step + " of " + total;
                    break;
                }
                long stepStart = System.nanoTime();
                double lossSum = 0;
                int stepTokens = 0;
                double norm;
                double lr = config.schedule().rate(config.learningRate(), step, config.warmupSteps(), total);
                boolean finite = true;
                try (NDManager scratch = lm.manager().newSubManager()) {
                    // one micro-batch without checkpointing: the gradients come back as fresh arrays; checkpointing (block by
                    // block) and gradient accumulation add them up in the parameters' gradient fields, where libtorch adds
                    // each as it is ready and frees it (a fresh set per micro-batch would hold two sets at once)
                    boolean fresh = !checkpointing && config.gradientAccumulation() == 1;
                    List<NDArray> freshGrads = new ArrayList<>(paramList.size());
                    for (int micro = 0; micro < config.gradientAccumulation(); micro++) {
                        Batch batch = batches.next();
                        NDList arrays = batch.toArrays(scratch, lm.config().padTokenId());
                        // dropout draws from a generator seeded per (step, micro-batch), so a resumed run draws what an
                        // uninterrupted one would have
                        reseed(step, micro, lm.config().numLayers());
                        double loss = checkpointing
                                ? forwardBackwardCheckpointed(lm, arrays.get(0), arrays.get(1), step, micro)
                                : forwardBackward(lm, arrays.get(0), arrays.get(1), paramList, fresh ? freshGrads : null);
                        lossSum += loss;
                        stepTokens += batch.realTokens();
                        if (!Double.isFinite(loss)) {
                            finite = false;
                            break;
                        }
                    }
                    double loss = lossSum / config.gradientAccumulation();
                    if (!finite) {
                        optimizer.zeroGradients();
                        reason = StopReason.DIVERGED;
                        message = "loss became " + loss + " at step " + (step + 1) + "; training stopped and the best values were kept"
                                + " (try a lower learning rate)";
                        break;
                    }
                    Map<String, NDArray> grads = fresh ? byName(params, freshGrads) : optimizer.gradients(scratch);
                    norm = globalNorm(grads.values());
                    if (!Double.isFinite(norm)) {
                        String culprits = nonFinite(grads);
                        optimizer.zeroGradients();
                        reason = StopReason.DIVERGED;
                        message = "gradient norm became " + norm + " at step " + (step + 1) + " (non-finite gradients in " + culprits
                                + "); training stopped and the best values were kept";
                        break;
                    }
                    // clipping scales the gradients by max / norm: AdamW divides by the inverse as it reads them
                    double divisor = 1;
                    if (config.maxGradNorm() > 0 && norm > config.maxGradNorm()) {
                        double scale = config.maxGradNorm() / (norm + 1e-6);
                        divisor = 1 / scale;
                    }
                    optimizer.step(grads, lr, divisor, !fresh);
                    trimIfQuantized(lm);
                    metrics.tokensSeen += stepTokens;
                    double seconds = (System.nanoTime() - stepStart) / 1e9;
                    double elapsed = metrics.elapsedBefore + (System.nanoTime() - start) / 1e9;
                    StepMetrics row = new StepMetrics(step + 1, total, loss, lr, norm, stepTokens / seconds, elapsed);
                    metrics.addStep(row, stepTokens);
                    listeners.forEach(l -> l.onStep(row));
                }
                if (Thread.currentThread().isInterrupted()) {
                    // the step is complete: stop here, before a validation that could take long
                    reason = StopReason.INTERRUPTED;
                    message = "interrupted after step " + (step + 1) + " of " + total;
                    break;
                }
                boolean last = step == total - 1;
                if (!validation.isEmpty() && (last || config.evalEvery() > 0 && (step + 1) % config.evalEvery() == 0)) {
                    model.setTraining(false);
                    double val;
                    try {
                        val = Evaluator.loss(lm, validation, config.batchSize());
                    } catch (java.util.concurrent.CancellationException e) {
                        // interrupted between validation batches: the step itself is complete
                        reason = StopReason.INTERRUPTED;
                        message = "interrupted after step " + (step + 1) + " of " + total + " (its validation was abandoned)";
                        break;
                    }
                    model.setTraining(true);
                    boolean improved = val < metrics.best;
                    // patience resets only on a real improvement, so rounding noise cannot keep a stalled run going
                    if (val < metrics.best - config.earlyStoppingThreshold()) {
                        metrics.sinceBest = 0;
                    } else {
                        metrics.sinceBest++;
                    }
                    if (improved) {
                        metrics.best = val;
                        metrics.bestStep = step + 1;
                        metrics.bestValues = snapshot(params);
                        if (config.checkpointDir() != null) {
                            saveCheckpoint();
                        }
                    }
                    EvalMetrics em = new EvalMetrics(step + 1, val, Math.exp(val), improved);
                    metrics.addEvaluation(em);
                    listeners.forEach(l -> l.onEvaluation(em));
                    if (config.earlyStoppingPatience() > 0 && metrics.sinceBest >= config.earlyStoppingPatience() && !last) {
                        reason = StopReason.EARLY_STOPPED;
                        message = "validation loss did not improve for " + metrics.sinceBest + " evaluations";
                        step++;
                        break;
                    }
                }
                if (config.checkpointEvery() > 0 && (step + 1) % config.checkpointEvery() == 0) {
                    double elapsed = metrics.elapsedBefore + (System.nanoTime() - start) / 1e9;
                    RunCheckpoint.save(config.outputDir(), config.checkpointsKept(),
                            metrics.progress(step + 1, batches, elapsed), settings, dataFingerprint, params, optimizer,
                            metrics.bestValues);
                }
            }
        } finally {
            model.setTraining(false);
        }
        if (metrics.bestValues != null && (config.restoreBest() || reason == StopReason.DIVERGED)) {
            restore(params, metrics.bestValues);
            if (reason == StopReason.INTERRUPTED) {
                message += "; the trainable values of the best validation (step " + metrics.bestStep + ") were restored";
            }
        }
        if (!notes.isEmpty()) {
            message = String.join("; ", notes) + (message.isEmpty() ? "" : "; " + message);
        }
        double seconds = metrics.elapsedBefore + (System.nanoTime() - start) / 1e9;
        TrainingRun run = new TrainingRun(config, metrics.history(), metrics.evaluations(), reason, message, metrics.lossCol.size(), seconds,
                model.trainableParameterCount(), metrics.tokensSeen, metrics.bestStep > 0 ? metrics.best : Double.NaN, metrics.bestStep);
        // listeners write files and sockets, which fail on an interrupted thread (NIO channels close), so they run
        // without the flag; it is set again for the caller (code training in a loop stops at its next run), also
        // when something on the way (native cleanup) consumed it
        boolean interrupted = Thread.interrupted() || reason == StopReason.INTERRUPTED;
        try {
            listeners.forEach(l -> l.onEnd(run));
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        return run;
    }

    /**
     * Continues from the newest usable checkpoint of {@code config.resumeFrom()}: trainable values, AdamW's state,
     * the data stream's position, the best values and the metrics so far. Returns the steps already done.
     */
    private int resume(Map<String, NDArray> params, AdamW optimizer, BatchStream batches, Metrics metrics, Map<String, String> now,
            String dataFingerprint, List<String> notes) {
        Map<String, ai.djl.ndarray.types.Shape> shapes = new LinkedHashMap<>();
        params.forEach((name, p) -> shapes.put(name, p.getShape()));
        RunCheckpoint.Loaded saved = RunCheckpoint.load(config.resumeFrom(), shapes);
        List<String> differ = new ArrayList<>();
        saved.settings().forEach((k, v) -> {
            if (!v.equals(now.get(k))) {
                differ.add(k.endsWith(" data") ? "the " + k + " differs" : k + " was " + v + ", now " + now.get(k));
            }
        });
        if (!differ.isEmpty()) {
            throw new IllegalArgumentException("cannot resume " + saved.dir() + " with other settings: " + String.join(", ", differ)
                    + ". Resume with the settings of the original run, or start a new run in another folder.");
        }
        if (!saved.dataFingerprint().equals(dataFingerprint)) {
            throw new IllegalArgumentException("cannot resume " + saved.dir() + ": the training data differs from the run's"
                    + " (another dataset, split or tokenizer). Resume with the same data, or start a new run in another folder.");
        }
        RunCheckpoint.Progress p = saved.progress();
        if (config.checkpointEvery() > 0) {
            Path source = RunCheckpoint.runFolder(saved.dir());
            Path target = config.outputDir().toAbsolutePath().normalize();
            if (source.equals(target)) {
                RunCheckpoint.dropNewerThan(target, p.step()); // this run now writes that future again
            } else {
                refuseEarlierCheckpoints(target);
            }
        }
        restore(params, saved.trainable());
        optimizer.restore(saved.firstMoments(), saved.secondMoments(), saved.optimizerSteps());
        batches.skipTo(p.epochsDrawn(), p.position());
        metrics.restore(p, saved.best());
        notes.addAll(saved.notes());
        return p.step();
    }
    /**
     * Forward and backward of one micro-batch. With {@code freshOut} the gradients come back as fresh arrays into it
     * (nothing accumulates into the parameters' gradient fields, so nothing needs zeroing; they are inference
     * tensors: read them, do not modify them in place); without, backward adds them up in those fields.
     */
    private double forwardBackward(CausalLM lm, NDArray ids, NDArray labels, List<NDArray> params, List<NDArray> freshOut) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = CausalLM.causalLmLoss(lm.forward(ids), labels);
            float value = loss.getFloat();
            if (Float.isFinite(value)) {
                if (freshOut != null) {
                    freshOut.addAll(oneml.tensor.Kernels.gradients(loss, params));
                } else {
                    gc.backward(scaleForAccumulation(loss));
                }
            }
            return value;
        }
    }

    /**
     * What a resumed run must share with the run it continues: the training settings that decide its numbers, the
     * method and its config, the base model, and the validation data (the training data is checked on its own).
     */
    private Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>(config.resumeRelevant());
        CausalLM lm = model.model();
        s.put("method", model instanceof PeftModel peft && peft.activeAdapter() != null
                ? peft.adapter(peft.activeAdapter()).config().toString() : model.getClass().getSimpleName());
        s.put("base model", lm.config() + (lm.isQuantized() ? " in " + lm.quantization().config() : ""));
        s.put("validation data", RunCheckpoint.fingerprint(validation));
        return s;
    }

    /** A fresh run must not write into a folder holding another run's checkpoints (their steps would shadow its own). */
    private static void refuseEarlierCheckpoints(Path runDir) {
        RunCheckpoint.newest(runDir).ifPresent(name -> {
            throw new IllegalArgumentException(RunCheckpoint.folder(runDir.toAbsolutePath()) + " already holds checkpoints of an"
                    + " earlier run (" + name + "): continue that run with resumeFrom / --resume, or give this one another"
                    + " folder (or delete that one)");
        });
    }

    private static Map<String, NDArray> byName(Map<String, NDArray> params, List<NDArray> grads) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        int i = 0;
        for (String name : params.keySet()) {
            out.put(name, grads.get(i++));
        }
        return out;
    }

    private NDArray scaleForAccumulation(NDArray loss) {
        return config.gradientAccumulation() == 1 ? loss : oneml.model.Scalars.dividedBy(loss, config.gradientAccumulation());
    }

    /**
     * Gradient checkpointing: a forward pass without autograd keeps only each block's input; the backward
     * pass recomputes one block at a time under autograd and pushes the upstream gradient through it.
     * Dropout draws the same masks in both passes because libtorch is reseeded per (step, block).
     */
    private double forwardBackwardCheckpointed(CausalLM lm, NDArray ids, NDArray labels, int step, int micro) {
        int layers = lm.config().numLayers();
        int start = lm.startPosition();
        NDManager stepManager = ids.getManager();
        NDArray[] inputs = new NDArray[layers + 1];
        inputs[0] = lm.embed(ids, start);
        for (int i = 0; i < layers; i++) {
            reseed(step, micro, i);
            // each block in its own manager: only its output outlives it (results go to the first operand's
            // manager, so the input is lent to the block's manager for the duration)
            try (NDManager blockManager = stepManager.newSubManager()) {
                inputs[i].tempAttach(blockManager);
                NDArray out = lm.block(i, inputs[i], start, null);
                out.attach(stepManager);
                inputs[i + 1] = out;
            }
            trimIfLargeQuantized(lm);
        }
        NDArray upstream;
        float value;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray top = inputs[layers];
            top.setRequiresGradient(true);
            NDArray loss = CausalLM.causalLmLoss(lm.dropVirtualTokens(lm.head(top)), labels);
            value = loss.getFloat();
            if (!Float.isFinite(value)) {
                return value;
            }
            gc.backward(scaleForAccumulation(loss));
            upstream = top.getGradient();
        }
        for (int i = layers - 1; i >= 0; i--) {
            // the recomputed block's activations (and the dequantised weights of a 4-bit base) go with its manager
            try (NDManager blockManager = stepManager.newSubManager();
                 GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray input = inputs[i];
                input.tempAttach(blockManager);
                input.setRequiresGradient(true);
                reseed(step, micro, i);
                NDArray out = lm.block(i, input, start, null);
                gc.backward(out.mul(upstream).sum());
                upstream = input.getGradient();
                upstream.attach(stepManager);
            }
            trimIfLargeQuantized(lm);
        }
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray embedded = lm.embed(ids, start);
            // DJL reports no gradient for computed arrays, so decide from what trains: the embedding weights
            // (full fine-tuning, modules_to_save) or prompt tuning's virtual tokens
            if (embeddingsTrain(lm)) {
                gc.backward(embedded.mul(upstream).sum());
            }
        }
        return value;
    }

    /**
     * A 4-bit base allocates a fresh float32 copy of each weight per block; glibc keeps such freed pages,
     * so the process would grow towards the float32 model's size (see {@link oneml.model.NativeMemory}).
     * Trimming after each step keeps that in check; after each block too once the weights are big enough
     * for memory to matter (a trim costs tens of milliseconds, too much per block for a small model).
     */
    private static final boolean TRIM = !"false".equals(System.getProperty("oneml.trim"));

    private static void trimIfQuantized(CausalLM lm) {
        if (TRIM && lm.isQuantized() && lm.quantization().parameters() * 4 >= TRIM_PER_BLOCK_BYTES) {
            oneml.model.NativeMemory.trim();
        }
    }

    /** Float32 bytes of quantised weights above which trimming happens per block, not just per step. */
    private static final long TRIM_PER_BLOCK_BYTES = 64L << 20;

    private static void trimIfLargeQuantized(CausalLM lm) {
        if (TRIM && lm.isQuantized() && lm.quantization().parameters() * 4 >= TRIM_PER_BLOCK_BYTES) {
            oneml.model.NativeMemory.trim();
        }
    }

    private boolean embeddingsTrain(CausalLM lm) {
        if (lm.hooks().virtualTokens() > 0) {
            return true;
        }
        java.util.Set<NDArray> trainable = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        trainable.addAll(model.trainableParameters().values());
        return lm.embeddingArrays().stream().anyMatch(trainable::contains);
    }

    private void reseed(int step, int micro, int layer) {
        Engine.getInstance().setRandomSeed((int) (config.seed() * 1_000_003L + step * 7919L + micro * 131L + layer));
    }

    static double globalNorm(java.util.Collection<NDArray> grads) {
        return Math.sqrt(oneml.tensor.Kernels.squaredNorm(grads));
    }

    /** Names of the arrays whose gradient holds NaN or infinity, for the divergence message. */
    private static String nonFinite(Map<String, NDArray> grads) {
        List<String> names = new ArrayList<>();
        grads.forEach((name, g) -> {
            float s = g.abs().sum().getFloat();
            if (!Float.isFinite(s)) {
                names.add(name);
            }
        });
        return names.size() > 5 ? names.subList(0, 5) + " and " + (names.size() - 5) + " more" : names.toString();
    }

    private static Map<String, float[]> snapshot(Map<String, NDArray> params) {
        Map<String, float[]> out = new LinkedHashMap<>();
        params.forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    private static void restore(Map<String, NDArray> params, Map<String, float[]> values) {
        Engines.noGradInThisThread();
        params.forEach((k, v) -> oneml.tensor.Kernels.assign(v, values.get(k)));
    }

    private void saveCheckpoint() {
        if (model instanceof PeftModel peft) {
            peft.save(config.checkpointDir());
        } else {
            oneml.model.Checkpoints.save(model.model(), config.checkpointDir(), oneml.io.StorageType.F32);
        }
    }

    /** The run's record as it grows: the per-step and validation columns, the best so far, and totals. */
    private static final class Metrics {
        final DoubleColumn stepCol = DoubleColumn.create("step");
        final DoubleColumn lossCol = DoubleColumn.create("loss");
        final DoubleColumn lrCol = DoubleColumn.create("learning_rate");
        final DoubleColumn normCol = DoubleColumn.create("grad_norm");
        final DoubleColumn tokensCol = DoubleColumn.create("tokens");
        final DoubleColumn tpsCol = DoubleColumn.create("tokens_per_s");
        final DoubleColumn elapsedCol = DoubleColumn.create("elapsed_s");
        final IntColumn evalStep = IntColumn.create("step");
        final DoubleColumn evalLoss = DoubleColumn.create("val_loss");
        final DoubleColumn evalPpl = DoubleColumn.create("val_perplexity");
        double best = Double.POSITIVE_INFINITY;
        int bestStep = -1;
        int sinceBest;
        Map<String, float[]> bestValues;
        long tokensSeen;
        double elapsedBefore; // seconds spent before a resume

        void addStep(StepMetrics m, int tokens) {
            stepCol.append(m.step());
            lossCol.append(m.loss());
            lrCol.append(m.learningRate());
            normCol.append(m.gradNorm());
            tokensCol.append(tokens);
            tpsCol.append(m.tokensPerSecond());
            elapsedCol.append(m.elapsedSeconds());
        }

        void addEvaluation(EvalMetrics e) {
            evalStep.append(e.step());
            evalLoss.append(e.loss());
            evalPpl.append(e.perplexity());
        }

        Table history() {
            return Table.create("history", stepCol, lossCol, lrCol, normCol, tokensCol, tpsCol, elapsedCol);
        }

        Table evaluations() {
            return Table.create("evaluations", evalStep, evalLoss, evalPpl);
        }

        RunCheckpoint.Progress progress(int step, BatchStream batches, double elapsed) {
            Map<String, double[]> h = new LinkedHashMap<>();
            history().columns().forEach(c -> h.put(c.name(), ((tech.tablesaw.api.NumericColumn<?>) c).asDoubleArray()));
            Map<String, double[]> e = new LinkedHashMap<>();
            evaluations().columns().forEach(c -> e.put(c.name(), ((tech.tablesaw.api.NumericColumn<?>) c).asDoubleArray()));
            return new RunCheckpoint.Progress(step, batches.epochsDrawn(), batches.position(), best, bestStep, sinceBest, tokensSeen,
                    elapsed, h, e);
        }

        void restore(RunCheckpoint.Progress p, Map<String, float[]> savedBest) {
            for (DoubleColumn c : List.of(stepCol, lossCol, lrCol, normCol, tokensCol, tpsCol, elapsedCol)) {
                for (double v : p.history().get(c.name())) {
                    c.append(v);
                }
            }
            double[] steps = p.evaluations().get("step");
            for (int i = 0; i < steps.length; i++) {
                evalStep.append((int) steps[i]);
                evalLoss.append(p.evaluations().get("val_loss")[i]);
                evalPpl.append(p.evaluations().get("val_perplexity")[i]);
            }
            best = p.best();
            bestStep = p.bestStep();
            sinceBest = p.sinceBest();
            bestValues = savedBest;
            tokensSeen = p.tokensSeen();
            elapsedBefore = p.elapsedSeconds();
        }
    }

    /** Endless batches: reshuffles at every epoch boundary. */
    private static final class BatchStream {
        private final List<TokenizedExample> examples;
        private final int size;
        private final Random random;
        private List<Batch> epoch = new ArrayList<>();
        private int next;

        BatchStream(List<TokenizedExample> examples, int size, Random random) {
            this.examples = examples;
            this.size = size;
            this.random = random;
        }

        private int epochsDrawn;

        Batch next() {
            if (next >= epoch.size()) {
                epoch = Batch.of(examples, size, random);
                epochsDrawn++;
                next = 0;
            }
            return epoch.get(next++);
        }

        int epochsDrawn() {
            return epochsDrawn;
        }

        int position() {
            return next;
        }

        /** Replays the shuffles of a run that had drawn {@code epochs} epochs and stood at {@code position} in the last. */
        void skipTo(int epochs, int position) {
            for (int i = 0; i < epochs; i++) {
                epoch = Batch.of(examples, size, random);
            }
            epochsDrawn = epochs;
            next = position;
        }
    }
}
