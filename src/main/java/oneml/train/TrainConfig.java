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
 * @param restoreBest           at the end, put back the trainable values of the best validation
 * @param seed                  shuffling, dropout and everything else random
 * @param maxLength             longest sequence accepted (longer rows are an error, never silently cut)
 * @param gradientCheckpointing keep only block inputs and recompute each block during backward
 * @param checkpointDir         where the best adapter (or model) is saved as it improves; null for none
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
        boolean restoreBest,
        long seed,
        int maxLength,
        boolean gradientCheckpointing,
        Path checkpointDir) {

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
                .restoreBest(restoreBest).seed(seed).maxLength(maxLength).gradientCheckpointing(gradientCheckpointing)
                .checkpointDir(checkpointDir);
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
        private boolean restoreBest = true;
        private long seed = 42;
        private int maxLength = 256;
        private boolean gradientCheckpointing = false;
        private Path checkpointDir;

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
        public Builder restoreBest(boolean v) { restoreBest = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder maxLength(int v) { maxLength = v; return this; }
        public Builder gradientCheckpointing(boolean v) { gradientCheckpointing = v; return this; }
        public Builder checkpointDir(Path v) { checkpointDir = v; return this; }

        public TrainConfig build() {
            return new TrainConfig(steps, epochs, batchSize, gradientAccumulation, learningRate, schedule, warmupSteps, weightDecay,
                    maxGradNorm, evalEvery, earlyStoppingPatience, restoreBest, seed, maxLength, gradientCheckpointing, checkpointDir);
        }
    }
}
