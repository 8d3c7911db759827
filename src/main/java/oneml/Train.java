package oneml;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import oneml.data.TextDataset;
import oneml.model.CausalLM;
import oneml.model.TrainableModel;
import oneml.train.ConsoleProgress;
import oneml.train.ExampleEncoder;
import oneml.train.FullFineTuning;
import oneml.train.Schedule;
import oneml.train.TrainConfig;
import oneml.train.Trainer;
import oneml.train.TrainingListener;
import oneml.train.TrainingRun;

/**
 * Fluent entry point for training:
 * {@code var run = Train.of(model, data).steps(300).learningRate(2e-4).run();}
 * The data's train split trains, its validation split is scored every {@code evalEvery} steps.
 */
public final class Train {
    private final TrainableModel model;
    private final TextDataset data;
    private final TrainConfig.Builder config = TrainConfig.builder();
    private final List<TrainingListener> listeners = new ArrayList<>();
    private String runName;
    private boolean quiet;
    private static volatile Supplier<? extends TrainingListener> progressFactory;

    private Train(TrainableModel model, TextDataset data) {
        this.model = model;
        this.data = data;
    }

    /** Trains a PEFT model's active adapter (or any trainable model) on a dataset. */
    public static Train of(TrainableModel model, TextDataset data) {
        return new Train(model, data);
    }

    /** Full fine-tuning: every weight of {@code model} trains (the baseline PEFT is compared with). */
    public static Train full(CausalLM model, TextDataset data) {
        return new Train(new FullFineTuning(model), data);
    }

    public Train steps(int steps) { config.steps(steps); return this; }
    public Train epochs(int epochs) { config.epochs(epochs); return this; }
    public Train batchSize(int size) { config.batchSize(size); return this; }
    public Train gradientAccumulation(int microBatches) { config.gradientAccumulation(microBatches); return this; }
    public Train learningRate(double lr) { config.learningRate(lr); return this; }
    public Train schedule(Schedule schedule) { config.schedule(schedule); return this; }
    public Train warmupSteps(int steps) { config.warmupSteps(steps); return this; }
    public Train weightDecay(double decay) { config.weightDecay(decay); return this; }
    public Train maxGradNorm(double norm) { config.maxGradNorm(norm); return this; }
    public Train evalEvery(int steps) { config.evalEvery(steps); return this; }
    public Train earlyStoppingPatience(int evaluations) { config.earlyStoppingPatience(evaluations); return this; }
    /** A validation loss must beat the best by more than this to reset the patience (HF's early_stopping_threshold). */
    public Train earlyStoppingThreshold(double loss) { config.earlyStoppingThreshold(loss); return this; }
    public Train restoreBest(boolean on) { config.restoreBest(on); return this; }
    public Train seed(long seed) { config.seed(seed); return this; }
    public Train maxLength(int tokens) { config.maxLength(tokens); return this; }
    public Train gradientCheckpointing(boolean on) { config.gradientCheckpointing(on); return this; }
    public Train checkpointDir(Path dir) { config.checkpointDir(dir); return this; }

    /** The run's folder: resume checkpoints go to its {@code checkpoints/} subfolder. */
    public Train outputDir(Path dir) { config.outputDir(dir); return this; }

    /**
     * Every {@code steps} steps, save everything needed to continue this run exactly after a kill (trainable values,
     * AdamW's state, the data position, best values, metrics) into {@code outputDir/checkpoints/checkpoint-STEP}.
     */
    public Train checkpointEvery(int steps) { config.checkpointEvery(steps); return this; }

    /** How many of the newest resume checkpoints stay on disk (default 2). */
    public Train checkpointsKept(int count) { config.checkpointsKept(count); return this; }

    /**
     * Continue the run saved in {@code dir} (its output folder, or one checkpoint in it) from the newest complete
     * checkpoint, with the same settings and data; the result equals an uninterrupted run's. A damaged checkpoint is
     * skipped for the one before it, and the run's message says so.
     */
    public Train resumeFrom(Path dir) { config.resumeFrom(dir); return this; }

    /** Also tell {@code listener} about every step and validation (live charts, custom logging). */
    public Train listener(TrainingListener listener) {
        listeners.add(listener);
        return this;
    }

    /** Names the run for its progress display (live chart titles); a comparison names each method's run. */
    public Train name(String runName) {
        this.runName = runName;
        return this;
    }

    /** No console progress bar. */
    public Train quiet() {
        quiet = true;
        return this;
    }

    /**
     * Replaces the console progress bar of runs that are not {@link #quiet()}: the Jupyter kernel installs a live
     * display updated in place. {@code null} restores the console bar.
     */
    public static void progress(Supplier<? extends TrainingListener> factory) {
        progressFactory = factory;
    }

    public TrainConfig config() {
        return config.build();
    }

    public TrainingRun run() {
        TrainConfig tc = config.build();
        CausalLM lm = model.model();
        ExampleEncoder encoder = new ExampleEncoder(lm.tokenizer(), lm.config(), tc.maxLength());
        List<TrainingListener> all = new ArrayList<>(listeners);
        if (!quiet) {
            Supplier<? extends TrainingListener> factory = progressFactory;
            all.add(0, factory == null ? new ConsoleProgress(System.out) : factory.get());
        }
        if (runName != null) {
            all.forEach(l -> l.onRunName(runName));
        }
        var trainer = new Trainer(model, encoder.encode(data.train()), encoder.encode(data.validation()), tc, all);
        return trainer.run();
    }
}
