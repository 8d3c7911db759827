package oneml.train;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Everything a training run is told, with the defaults of Hugging Face's Trainer where it has one.
 *
 * @param steps                 optimiser steps; 0 means run {@code epochs} epochs instead
 * @param epochs                passes over the training set when steps is 0
 * @param batchSize             examples per micro-batch
 * @param gradientAccumulation  micro-batches per optimiser step
 * @param learningRate          peak learning rate
 * @param schedule              decay after warmup
 * @param warmupSteps           linear warmup from 0
 * @param weightDecay           AdamW's decoupled decay
 * @param maxGradNorm           global-norm clipping threshold; 0 turns clipping off
 * @param evalEvery             validate every this many steps (and at the end); 0 only at the end
 * @param earlyStoppingPatience stop after this many validations without improvement; 0 never stops early
 * @param earlyStoppingThreshold how much lower a validation loss must be than the best so far to reset the patience
 *                              (Hugging Face's {@code early_stopping_threshold}); the best values are still kept on any
 *                              improvement
 * @param restoreBest           at the end, put back the trainable values of the best validation
 * @param seed                  shuffling, dropout and everything else random
 * @param maxLength             longest sequence accepted (longer rows are an error, never silently cut)
 * @param gradientCheckpointing keep only block inputs and recompute each block during backward
 * @param checkpointDir         where the best adapter (or model) is saved as it improves; null for none
 * @param checkpointEvery       save everything needed to resume every this many steps, into
 *                              {@code outputDir/checkpoints/checkpoint-STEP}; 0 saves none
 * @param checkpointsKept       how many of the newest resume checkpoints are kept (older ones are deleted)
 * @param outputDir             the run's folder (resume checkpoints go to its {@code checkpoints/}); null for none
 * @param resumeFrom            continue the run saved in this folder (a run's output folder, or one checkpoint in
 *                              it) from its newest complete checkpoint; null starts afresh
 */
public record TrainConfig(
        int steps,
        int epochs,
        int batchSize,
        int gradientAccumulation,
        double learningRate,
        Schedule schedule,
        int warmupSteps,
        double weightDecay,
        double maxGradNorm,
        int evalEvery,
        int earlyStoppingPatience,
        double earlyStoppingThreshold,
        boolean restoreBest,
        long seed,
        int maxLength,
        boolean gradientCheckpointing,
        Path checkpointDir,
        int checkpointEvery,
        int checkpointsKept,
        Path outputDir,
        Path resumeFrom) {

    public TrainConfig {
        positive(batchSize, "batchSize");
        positive(gradientAccumulation, "gradientAccumulation");
        positive(maxLength, "maxLength");
        if (steps < 0 || epochs < 0 || steps == 0 && epochs == 0) {
            throw new IllegalArgumentException("set steps > 0 or epochs > 0 (got steps=" + steps + ", epochs=" + epochs + ")");
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learningRate must be a positive number, got " + learningRate);
        }
        if (warmupSteps < 0 || weightDecay < 0 || maxGradNorm < 0 || evalEvery < 0 || earlyStoppingPatience < 0) {
            throw new IllegalArgumentException("warmupSteps, weightDecay, maxGradNorm, evalEvery and earlyStoppingPatience must not be negative");
        }
        if (resumeFrom != null && outputDir == null) {
            outputDir = RunCheckpoint.runFolder(resumeFrom); // a resumed run goes on saving where it was saving
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException("checkpointEvery must not be negative, got " + checkpointEvery);
        }
        positive(checkpointsKept, "checkpointsKept");
        if (checkpointEvery > 0 && outputDir == null) {
            throw new IllegalArgumentException("checkpointEvery(" + checkpointEvery + ") saves into the run's folder:"
                    + " set one with outputDir(path) (--out DIR on the command line); checkpoints go to its checkpoints/ subfolder");
        }
        if (!(earlyStoppingThreshold >= 0) || Double.isInfinite(earlyStoppingThreshold)) {
            throw new IllegalArgumentException("earlyStoppingThreshold must be a finite number >= 0, got " + earlyStoppingThreshold);
        }
    }

    private static void positive(int v, String name) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().steps(steps).epochs(epochs).batchSize(batchSize).gradientAccumulation(gradientAccumulation)
                .learningRate(learningRate).schedule(schedule).warmupSteps(warmupSteps).weightDecay(weightDecay)
                .maxGradNorm(maxGradNorm).evalEvery(evalEvery).earlyStoppingPatience(earlyStoppingPatience)
                .earlyStoppingThreshold(earlyStoppingThreshold).restoreBest(restoreBest).seed(seed).maxLength(maxLength).gradientCheckpointing(gradientCheckpointing)
                .checkpointDir(checkpointDir).checkpointEvery(checkpointEvery).checkpointsKept(checkpointsKept)
                .outputDir(outputDir).resumeFrom(resumeFrom);
    }

    /**
     * The settings a resumed run must share with the run it continues, because they decide its numbers (data order,
     * schedule, updates, validations); where files go and how often checkpoints are saved may change.
     */
    public java.util.Map<String, String> resumeRelevant() {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("steps", String.valueOf(steps));
        m.put("epochs", String.valueOf(epochs));
        m.put("batchSize", String.valueOf(batchSize));
        m.put("gradientAccumulation", String.valueOf(gradientAccumulation));
        m.put("learningRate", String.valueOf(learningRate));
        m.put("schedule", schedule.name());
        m.put("warmupSteps", String.valueOf(warmupSteps));
        m.put("weightDecay", String.valueOf(weightDecay));
        m.put("maxGradNorm", String.valueOf(maxGradNorm));
        m.put("evalEvery", String.valueOf(evalEvery));
        m.put("earlyStoppingPatience", String.valueOf(earlyStoppingPatience));
        m.put("earlyStoppingThreshold", String.valueOf(earlyStoppingThreshold));
        m.put("seed", String.valueOf(seed));
        m.put("maxLength", String.valueOf(maxLength));
        m.put("gradientCheckpointing", String.valueOf(gradientCheckpointing));
        return m;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "TrainConfig(%s, batch=%d%s, lr=%.2e %s warmup=%d, clip=%s, eval every %s%s, seed=%d%s)",
                steps > 0 ? steps + " steps" : epochs + " epochs", batchSize,
                gradientAccumulation > 1 ? "x" + gradientAccumulation : "", learningRate, schedule.name().toLowerCase(Locale.ROOT),
                warmupSteps, maxGradNorm > 0 ? String.valueOf(maxGradNorm) : "off", evalEvery > 0 ? evalEvery + " steps" : "end",
                earlyStoppingPatience > 0 ? ", patience " + earlyStoppingPatience : "", seed,
                gradientCheckpointing ? ", checkpointing" : "");
    }

    /** Fluent builder; defaults: 100 steps, batch 8, lr 2e-4 linear, clip 1.0, eval every 50, seed 42. */
    public static final class Builder {
        private int steps = 100;
        private int epochs = 0;
        private int batchSize = 8;
        private int gradientAccumulation = 1;
        private double learningRate = 2e-4;
        private Schedule schedule = Schedule.LINEAR;
        private int warmupSteps = 0;
        private double weightDecay = 0.0;
        private double maxGradNorm = 1.0;
        private int evalEvery = 50;
        private int earlyStoppingPatience = 0;
        private double earlyStoppingThreshold = 0.0;
        private boolean restoreBest = true;
        private long seed = 42;
        private int maxLength = 256;
        private boolean gradientCheckpointing = false;
        private Path checkpointDir;
        private int checkpointEvery = 0;
        private int checkpointsKept = 2;
        private Path outputDir;
        private Path resumeFrom;

        public Builder steps(int v) { steps = v; if (v > 0) { epochs = 0; } return this; }
        public Builder epochs(int v) { epochs = v; if (v > 0) { steps = 0; } return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder gradientAccumulation(int v) { gradientAccumulation = v; return this; }
        public Builder learningRate(double v) { learningRate = v; return this; }
        public Builder schedule(Schedule v) { schedule = v; return this; }
        public Builder warmupSteps(int v) { warmupSteps = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
        public Builder evalEvery(int v) { evalEvery = v; return this; }
        public Builder earlyStoppingPatience(int v) { earlyStoppingPatience = v; return this; }
        public Builder earlyStoppingThreshold(double v) { earlyStoppingThreshold = v; return this; }
        public Builder restoreBest(boolean v) { restoreBest = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder maxLength(int v) { maxLength = v; return this; }
        public Builder gradientCheckpointing(boolean v) { gradientCheckpointing = v; return this; }
        public Builder checkpointDir(Path v) { checkpointDir = v; return this; }
        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }
        public Builder checkpointsKept(int v) { checkpointsKept = v; return this; }
        public Builder outputDir(Path v) { outputDir = v; return this; }
        public Builder resumeFrom(Path v) { resumeFrom = v; return this; }

        public TrainConfig build() {
            return new TrainConfig(steps, epochs, batchSize, gradientAccumulation, learningRate, schedule, warmupSteps, weightDecay,
                    maxGradNorm, evalEvery, earlyStoppingPatience, earlyStoppingThreshold, restoreBest, seed, maxLength, gradientCheckpointing, checkpointDir,
                    checkpointEvery, checkpointsKept, outputDir, resumeFrom);
        }
    }
}
