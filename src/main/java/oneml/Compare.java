package oneml;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import oneml.compare.Candidate;
import oneml.compare.Comparison;
import oneml.compare.MachineLoad;
import oneml.compare.MethodResult;
import oneml.compare.MethodResult.Status;
import oneml.compare.ProcessMemory;
import oneml.data.TextDataset;
import oneml.io.AtomicFiles;
import oneml.model.CausalLM;
import oneml.model.TrainableModel;
import oneml.peft.AdapterFiles;
import oneml.peft.PeftModel;
import oneml.train.StopReason;
import oneml.train.TrainingListener;
import oneml.train.TrainingRun;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Table;

/**
 * Compares PEFT methods on one base model and dataset with one call:
 * <pre>{@code
 * var result = Compare.of(Models::tiny, data).methods("full", "lora", "qlora", "prefix", "adapter").steps(60).run();
 * result.table();                          // a row per method
 * ComparisonCharts.lossCurves(result);     // oneml.viz
 * }</pre>
 * Each method gets a fresh base model from the supplier (QLoRA quantises it, full fine-tuning changes it), the
 * same data, steps, batch size and seed, and its own learning rate ({@link Candidate#preset}). Peak memory is the
 * model's arrays, counted, plus the process RSS high-water mark while training above the RSS once the model is in its
 * training form (see {@link MethodResult}); the methods run one after another, so each peak is that method's alone,
 * after a short discarded training of the first method ({@link #warmUp}) so that the JVM's one-off first-training
 * cost is not charged to whichever method runs first.
 * A method that fails is reported in its row and the others go on; an interrupt stops after the current step and
 * keeps what was measured.
 */
public final class Compare {
    private final Supplier<CausalLM> base;
    private final TextDataset data;
    private final List<Candidate> candidates = new ArrayList<>();
    private String modelName = "model";
    private int steps = 60;
    private int batchSize = 16;
    private int evalEvery = 20;
    private int evalLimit = 100;
    private int maxNewTokens = 8;
    private long seed = 42;
    private Path adaptersDir;
    private boolean quiet;
    private boolean baseline = true;
    private int warmUpSteps = 3;
    private final List<TrainingListener> listeners = new ArrayList<>();
    private final List<Consumer<Train>> trainSettings = new ArrayList<>();

    private Compare(Supplier<CausalLM> base, TextDataset data) {
        this.base = base;
        this.data = data;
    }

    /** A comparison on the base models {@code base} supplies (called once per method, each model closed after use). */
    public static Compare of(Supplier<CausalLM> base, TextDataset data) {
        if (base == null || data == null) {
            throw new IllegalArgumentException("Compare.of needs a base model supplier (e.g. Models::tiny) and a dataset");
        }
        return new Compare(base, data);
    }

    /** A comparison on the Hugging Face model folder {@code modelDir}, loaded afresh for each method. */
    public static Compare of(Path modelDir, TextDataset data) {
        if (!Files.isRegularFile(modelDir.resolve("config.json"))) {
            throw new IllegalArgumentException(modelDir + ": not a model folder (no config.json)");
        }
        return of(() -> Models.load(modelDir), data).modelName(modelDir.getFileName().toString());
    }

    /** A comparison on the embedded default model. */
    public static Compare tiny(TextDataset data) {
        return of(Models::tiny, data).modelName("oneml-tiny");
    }

    /** Adds methods by their short names with the comparison defaults: full, lora, dora, qlora, ia3, prompt, prefix, adapter. */
    public Compare methods(String... names) {
        return methods(List.of(names));
    }

    public Compare methods(List<String> names) {
        candidates.addAll(Candidate.presets(names));
        return this;
    }

    /** Adds a method with its own config and learning rate, e.g. {@code add("lora-r16", lora16, 5e-3)}. */
    public Compare add(String name, PeftConfig config, double learningRate) {
        return add(Candidate.of(name, config, learningRate));
    }

    public Compare add(Candidate candidate) {
        if (candidates.stream().anyMatch(c -> c.name().equals(candidate.name()))) {
            throw new IllegalArgumentException("the comparison already has a method named '" + candidate.name() + "'; give each a unique name");
        }
        candidates.add(candidate);
        return this;
    }

    /** Adds full fine-tuning (every weight trains) as the baseline. */
    public Compare full(double learningRate) {
        return add(Candidate.full(learningRate));
    }

    public Compare modelName(String name) { this.modelName = name; return this; }
    public Compare steps(int steps) { this.steps = positive("steps", steps); return this; }
    public Compare batchSize(int size) { this.batchSize = positive("batch size", size); return this; }
    /** Validate every {@code steps} steps (and after the last); 0 only at the end. */
    public Compare evalEvery(int steps) { this.evalEvery = Math.max(0, steps); return this; }
    /** How many test rows are answered by generation for the accuracy column (0: all). */
    public Compare evalLimit(int rows) { this.evalLimit = Math.max(0, rows); return this; }
    public Compare maxNewTokens(int tokens) { this.maxNewTokens = positive("max new tokens", tokens); return this; }
    public Compare seed(long seed) { this.seed = seed; return this; }
    /** Also keep each trained adapter, in {@code dir/NAME} (PEFT's folder format). */
    public Compare saveAdaptersTo(Path dir) { this.adaptersDir = dir; return this; }
    /** Also tell {@code listener} about every step and validation of every method. */
    public Compare listener(TrainingListener listener) { listeners.add(listener); return this; }
    /**
     * Also apply {@code settings} to every method's {@link Train} after the comparison's own (gradient checkpointing,
     * warmup, resumable checkpoints): a sweep's trial is a comparison of one method with its own training fields.
     */
    public Compare trainWith(Consumer<Train> settings) { trainSettings.add(settings); return this; }
    /** Skip scoring the untrained model (its accuracy is then NaN): for a comparison split over several runs. */
    public Compare withoutBaseline() { this.baseline = false; return this; }
    /** No progress output. */
    public Compare quiet() { this.quiet = true; return this; }
    /**
     * Steps of an unrecorded training of the first method before any is measured (default 3; 0 turns it off). The
     * first training in a JVM pays one-off costs (libtorch's thread pools and allocator arenas, JIT compilation) that
     * would otherwise show in the first method's memory and speed only, making the chart show the run order.
     */
    public Compare warmUp(int steps) { this.warmUpSteps = Math.max(0, steps); return this; }

    private static int positive(String what, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + value);
        }
        return value;
    }

    /** The methods this comparison will run, in order (every preset when none was added). */
    public List<Candidate> candidates() {
        return candidates.isEmpty() ? Candidate.presets(Candidate.PRESETS) : List.copyOf(candidates);
    }

    /** Runs every method in turn and returns the results; progress goes to the console or the notebook. */
    public Comparison run() {
        List<Candidate> planned = candidates();
        int testRows = evalLimit > 0 ? Math.min(evalLimit, data.test().rowCount()) : data.test().rowCount();
        double untrainedAccuracy = Double.NaN;
        if (baseline) {
            try (CausalLM untrained = base.get()) {
                untrainedAccuracy = Eval.accuracy(untrained, data.test(), maxNewTokens, evalLimit).accuracy();
            }
        }
        say(String.format(Locale.ROOT, "Comparing %d %s on %s (%s), %d steps each; %s", planned.size(), planned.size() == 1 ? "method" : "methods",
                data.name(), modelName, steps, baseline ? String.format(Locale.ROOT, "untrained accuracy %.3f on %d test rows", untrainedAccuracy, testRows)
                        : "accuracy on " + testRows + " test rows"));
        if (warmUpSteps > 0 && !planned.isEmpty()) {
            warmUp(planned.get(0));
        }
        List<MethodResult> results = new ArrayList<>();
        boolean interrupted = false;
        for (int i = 0; i < planned.size(); i++) {
            Candidate c = planned.get(i);
            if (interrupted || Thread.currentThread().isInterrupted()) {
                interrupted = true;
                results.add(MethodResult.notRun(c, Status.SKIPPED, "the comparison was interrupted before this method"));
                continue;
            }
            say(String.format(Locale.ROOT, "[%d/%d] %s: %s, lr %.0e", i + 1, planned.size(), c.name(), c.label(), c.learningRate()));
            MethodResult r = runOne(c);
            results.add(r);
            say("  " + r);
            interrupted = r.status() == Status.INTERRUPTED;
        }
        return new Comparison(modelName, data.name(), steps, testRows, untrainedAccuracy, results, environment());
    }

    /** A short training of the first method, discarded: nothing is measured, no listener sees it, failures surface in the real run. */
    private void warmUp(Candidate c) {
        try (CausalLM model = base.get()) {
            TrainableModel trainable = c.isFullFineTuning() ? null : Peft.apply(model, c.config(), seed);
            Train train = trainable == null ? Train.full(model, data) : Train.of(trainable, data);
            train.steps(warmUpSteps).batchSize(batchSize).learningRate(c.learningRate()).evalEvery(0).seed(seed).quiet().run();
        } catch (RuntimeException | OutOfMemoryError e) {
            // the measured run of this method reports the problem in its own row
        }
    }

    private MethodResult runOne(Candidate c) {
        ProcessMemory.settleAndResetPeak(); // what the previous method left is freed before this one loads
        try (CausalLM model = base.get()) {
            TrainableModel trainable = c.isFullFineTuning() ? null : Peft.apply(model, c.config(), seed);
            long allParams = trainable == null ? model.parameterCount() : ((PeftModel) trainable).allParameterCount();
            double bits = model.isQuantized() ? model.quantization().bitsPerParameter() : 32;
            // the baseline: the model in its training form (a float32 spike while quantising is not counted); the model
            // itself is counted, and training's own memory is the high-water mark above this point
            long baseline = ProcessMemory.settleAndResetPeak();
            long modelBytes = trainable == null ? model.residentBytes() : trainable.residentBytes();
            Train train = trainable == null ? Train.full(model, data) : Train.of(trainable, data);
            train.steps(steps).batchSize(batchSize).learningRate(c.learningRate()).evalEvery(evalEvery).seed(seed).restoreBest(true)
                    .name(c.name() + " (" + c.label() + ")");
            trainSettings.forEach(s -> s.accept(train));
            listeners.forEach(train::listener);
            if (quiet) {
                train.quiet();
            }
            MachineLoad.Sampler load = MachineLoad.start();
            TrainingRun run = train.run();
            MachineLoad others = load.stop();
            long peak = ProcessMemory.peakRss();
            long trainableParams = run.trainableParameters();
            boolean stopped = run.stopReason() == StopReason.INTERRUPTED; // the flag stays set, so the loop above stops too
            double metric = stopped ? Double.NaN : Eval.accuracy(model, data.test(), maxNewTokens, evalLimit).accuracy();
            // file writes would fail with the interrupt flag set (interruptible channels), so a stopped method saves nothing
            long adapterBytes = trainable == null ? 4L * model.parameterCount() : stopped ? 0 : adapterBytes((PeftModel) trainable, c.name());
            Status status = switch (run.stopReason()) {
                case DIVERGED -> Status.DIVERGED;
                case INTERRUPTED -> Status.INTERRUPTED;
                default -> Status.OK;
            };
            Table curve = Table.create("curve", DoubleColumn.create("step", run.history().doubleColumn("step").asDoubleArray()),
                    DoubleColumn.create("loss", run.history().doubleColumn("loss").asDoubleArray()));
            Table validations = Table.create("validations",
                    DoubleColumn.create("step", run.evaluations().intColumn("step").asDoubleColumn().asDoubleArray()),
                    DoubleColumn.create("val_loss", run.evaluations().doubleColumn("val_loss").asDoubleArray()));
            return new MethodResult(c.name(), c.label(), status, run.message() == null ? "" : run.message(), c.learningRate(), trainableParams,
                    allParams, adapterBytes, bits, modelBytes, modelBytes + Math.max(0, peak - baseline), run.trainingSeconds(), run.steadyTokensPerSecond(),
                    run.stepsRun(), run.finalTrainLoss(), run.firstValidationLoss(), run.bestValidationLoss(), metric, curve, validations,
                    others.otherShare());
        } catch (RuntimeException | OutOfMemoryError e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return MethodResult.notRun(c, Status.FAILED, why);
        }
    }

    /** Saves the adapter (to the kept folder, or a temporary one) and returns the size of its weights file. */
    private long adapterBytes(PeftModel model, String name) {
        try {
            Path dir = adaptersDir != null ? adaptersDir.resolve(name) : Files.createTempDirectory("oneml-compare-");
            model.baseModelName(modelName).save(dir);
            long size = Files.size(dir.resolve(AdapterFiles.WEIGHTS));
            if (adaptersDir == null) {
                AtomicFiles.deleteTree(dir);
            }
            return size;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the " + name + " adapter: " + e.getMessage(), e);
        }
    }

    private void say(String line) {
        if (!quiet) {
            System.out.println(line);
        }
    }

    /** Versions and hardware, recorded with the results as PEFT's method comparison does. */
    private static Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("java", System.getProperty("java.version"));
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        env.put("cpu_cores", String.valueOf(Runtime.getRuntime().availableProcessors()));
        env.put("engine", "DJL " + ai.djl.engine.Engine.getDjlVersion() + ", PyTorch " + ai.djl.engine.Engine.getEngine("PyTorch").getVersion());
        env.put("date", java.time.LocalDate.now().toString());
        return env;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "Compare(%s on %s, %d steps, batch %d, seed %d)", data.name(), modelName,
                steps, batchSize, seed));
        for (Candidate c : candidates()) {
            s.append("\n  ").append(c);
        }
        return s.toString();
    }
}
