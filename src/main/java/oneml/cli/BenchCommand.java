package oneml.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import oneml.LoRAConfig;
import oneml.Models;
import oneml.Peft;
import oneml.compare.ProcessMemory;
import oneml.io.AtomicFiles;
import oneml.model.CausalLM;
import oneml.model.Engines;
import oneml.model.ModelConfig;
import oneml.model.TrainableModel;
import oneml.train.FullFineTuning;
import oneml.train.TokenizedExample;
import oneml.train.TrainConfig;
import oneml.train.Trainer;
import oneml.train.TrainingListener;
import oneml.train.StepMetrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Training throughput and memory per method and model shape. Each (shape, method) runs in its own JVM so
 * the peak-RSS figure belongs to that run alone: the child warms the engine up with the same method on a
 * 1-layer model, takes the RSS as its baseline, resets the kernel's high-water mark once the model is in
 * its training form, and reports the peak above the baseline; the model's own memory is counted.
 *
 * <p>The machine this runs on is usually shared, and its speed drifts by tens of percent over seconds. So
 * the methods of a shape run in interleaved rounds (full, lora, ..., full, lora, ...) and each keeps its
 * fastest round, and the matmul peak, the denominator of model-FLOPs utilisation (6 x parameters x
 * tokens/s), is the best of several rounds taken before and after the runs: both sides of the ratio are
 * best-case figures, and a slow spell cannot flatter one method against another.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure tokens/s, peak memory and MFU for full fine-tuning and every PEFT method, per model shape.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--shapes", split = ",", defaultValue = "tiny,large,wide",
            description = "tiny (d256 x4, seq 128, the embedded shape), large (d512 x8), wide (d1024 x8, seq 32: weights dominate memory)")
    List<String> shapes;
    @Option(names = "--methods", split = ",", defaultValue = "full,lora,dora,qlora,ia3,prompt,prefix,adapter")
    List<String> methods;
    @Option(names = "--steps", defaultValue = "12", description = "timed steps per run (after 3 warm-up steps)")
    int steps;
    @Option(names = "--rounds", defaultValue = "3", description = "interleaved runs per method; the fastest counts (memory: the largest)")
    int rounds;
    @Option(names = "--out", defaultValue = "out/bench")
    Path out;
    @Option(names = "--child", hidden = true, description = "internal: run one measurement as SHAPE:METHOD and print JSON")
    String child;

    record Case(String shape, ModelConfig config, int batch, int seq) {}

    static Case shape(String name) {
        switch (name) {
            case "tiny": return new Case(name, ModelConfig.llama(817, 256, 4, 8, 4, 688, 256), 8, 128);
            case "large": return new Case(name, ModelConfig.llama(817, 512, 8, 8, 4, 1376, 256), 8, 128);
            case "wide": return new Case(name, ModelConfig.llama(817, 1024, 8, 16, 8, 2752, 256), 4, 32);
            case "medium": return new Case(name, ModelConfig.llama(817, 768, 4, 12, 4, 2048, 256), 2, 16);
            case "tiny16": return new Case(name, ModelConfig.llama(817, 256, 4, 8, 4, 688, 256), 16, 128); // tests: memory per batch row
            default: throw new IllegalArgumentException("unknown shape '" + name + "'; shapes: tiny, large, wide");
        }
    }

    @Override
    public Integer call() throws Exception {
        if (child != null) {
            String[] parts = child.split(":");
            System.out.println(new Gson().toJson(measure(shape(parts[0]), parts[1], steps)));
            return 0;
        }
        if (rounds < 1 || steps < 1) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--rounds and --steps must be at least 1");
        }
        double peakBefore = matmulGflops();
        System.out.printf(Locale.ROOT, "matmul peak: %.1f GFLOP/s (fp32, best square size of %d rounds, %d threads)%n", peakBefore,
                PEAK_ROUNDS, ai.djl.pytorch.jni.JniUtils.getNumThreads());
        List<JsonObject> rows = new ArrayList<>();
        for (String s : shapes) {
            JsonObject[] best = new JsonObject[methods.size()];
            for (int round = 1; round <= rounds; round++) {
                for (int i = 0; i < methods.size(); i++) {
                    JsonObject r = runChild(s + ":" + methods.get(i));
                    System.out.printf(Locale.ROOT, "  %-5s %-7s round %d: %,8.0f tok/s  model %,7.1f MB  peak %,7.1f MB%n", s, methods.get(i), round,
                            r.get("tokens_per_s").getAsDouble(), r.get("model_mb").getAsDouble(), r.get("peak_mb").getAsDouble());
                    best[i] = keepBest(best[i], r);
                }
            }
            rows.addAll(List.of(best));
        }
        double peakAfter = matmulGflops();
        double peak = Math.max(peakBefore, peakAfter);
        System.out.printf(Locale.ROOT, "matmul peak after the runs: %.1f GFLOP/s; MFU is stated against %.1f%n", peakAfter, peak);
        for (JsonObject r : rows) {
            r.addProperty("mfu", 6.0 * r.get("params").getAsDouble() * r.get("tokens_per_s").getAsDouble() / (peak * 1e9));
        }
        String table = markdown(rows, peak, rounds);
        System.out.println();
        System.out.println(table);
        AtomicFiles.writeString(out.resolve("bench.md"), table);
        AtomicFiles.writeString(out.resolve("bench.json"), new Gson().toJson(rows));
        return 0;
    }

    private JsonObject runChild(String what) throws IOException, InterruptedException {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(javaBin, "-Xss4m", "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "bench", "--child", what, "--steps", String.valueOf(steps));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("{")) {
                    last = line;
                }
            }
        }
        int code = p.waitFor();
        if (code != 0 || last == null) {
            throw new IllegalStateException("benchmark run " + what + " failed (exit " + code + ")");
        }
        return JsonParser.parseString(last).getAsJsonObject();
    }

    /**
     * Folds one round into the best so far: the fastest round's tokens/s, the largest memory figures of any
     * round (memory does not get better by luck), and every round's tokens/s for the record.
     */
    static JsonObject keepBest(JsonObject best, JsonObject round) {
        com.google.gson.JsonArray all = best == null ? new com.google.gson.JsonArray() : best.getAsJsonArray("tokens_per_s_rounds").deepCopy();
        all.add(round.get("tokens_per_s").getAsDouble());
        JsonObject out = best == null || round.get("tokens_per_s").getAsDouble() > best.get("tokens_per_s").getAsDouble()
                ? round.deepCopy() : best.deepCopy();
        if (best != null) {
            for (String key : new String[] {"peak_mb", "model_mb"}) {
                out.addProperty(key, Math.max(best.get(key).getAsDouble(), round.get(key).getAsDouble()));
            }
        }
        out.add("tokens_per_s_rounds", all);
        return out;
    }

    /**
     * One (shape, method) measurement in this JVM: tokens/s over the timed steps and peak RSS above a baseline.
     * The baseline is taken after the same method has trained a 1-layer, 32-wide model for two steps: a JVM's
     * first training run pays about 200 MB once (JIT-compiled code, the Java heap it touches, libtorch's thread
     * pools and kernels) whatever it trains, and that is not this model's memory.
     */
    static JsonObject measure(Case c, String method, int steps) {
        Engines.rootManager();
        try (CausalLM small = Models.random(ModelConfig.llama(c.config().vocabSize(), 32, 1, 2, 1, 64, 64), 1)) {
            train(trainable(small, method), c.config().vocabSize(), 2, 8, 2, List.of());
        }
        long before = ProcessMemory.settleAndResetPeak();
        try (CausalLM model = Models.random(c.config(), 1)) {
            TrainableModel trainable = trainable(model, method);
            ProcessMemory.resetPeak(); // the model is in its training form: a float32 spike while quantising is not counted
            long modelBytes = trainable.residentBytes();
            int warmup = 3;
            List<Double> stepSeconds = new ArrayList<>();
            TrainingListener clock = new TrainingListener() {
                long last = System.nanoTime();

                @Override
                public void onStep(StepMetrics s) {
                    long now = System.nanoTime();
                    if (s.step() > warmup) {
                        stepSeconds.add((now - last) / 1e9);
                    }
                    last = now;
                }
            };
            train(trainable, c.config().vocabSize(), c.batch(), c.seq(), warmup + steps, List.of(clock));
            double tokensPerStep = (double) c.batch() * c.seq();
            long peak = ProcessMemory.peakRss();
            JsonObject r = new JsonObject();
            r.addProperty("shape", c.shape());
            r.addProperty("method", method);
            r.addProperty("d_model", c.config().hiddenSize());
            r.addProperty("layers", c.config().numLayers());
            r.addProperty("batch", c.batch());
            r.addProperty("seq", c.seq());
            r.addProperty("params", model.parameterCount());
            r.addProperty("trainable", trainable.trainableParameterCount());
            r.addProperty("trainable_pct", 100.0 * trainable.trainableParameterCount() / model.parameterCount());
            r.addProperty("tokens_per_s", tokensPerStep / median(stepSeconds));
            r.addProperty("tokens_per_s_mean", tokensPerStep * stepSeconds.size() / stepSeconds.stream().mapToDouble(x -> x).sum());
            r.addProperty("peak_mb", (peak - before) / 1e6);
            r.addProperty("model_mb", modelBytes / 1e6);
            return r;
        }
    }

    private static TrainableModel trainable(CausalLM model, String method) {
        switch (method) {
            case "ia3": return Peft.apply(model, oneml.IA3Config.builder().build());
            case "prompt": return Peft.apply(model, oneml.PromptTuningConfig.builder().numVirtualTokens(20).build());
            case "prefix": return Peft.apply(model, oneml.PrefixTuningConfig.builder().numVirtualTokens(20).build());
            case "adapter": return Peft.apply(model, oneml.AdapterConfig.pfeiffer());
            case "qlora": return Peft.apply(model, oneml.QLoRAConfig.builder().r(8).alpha(16).targetModules("q_proj", "v_proj").build());
            case "full": return new FullFineTuning(model);
            case "lora": return Peft.apply(model, LoRAConfig.builder().r(8).alpha(16).targetModules("q_proj", "v_proj").build());
            case "dora": return Peft.apply(model, LoRAConfig.builder().r(8).alpha(16).targetModules("q_proj", "v_proj").useDora(true).build());
            default: throw new IllegalArgumentException("unknown method '" + method + "'; methods: full, lora, dora, qlora, ia3, prompt, prefix, adapter");
        }
    }

    /** {@code steps} optimiser steps on random tokens, batches of {@code batch} sequences of {@code seq}. */
    private static void train(TrainableModel trainable, int vocab, int batch, int seq, int steps, List<TrainingListener> listeners) {
        List<TokenizedExample> data = new ArrayList<>();
        java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < batch * 4; i++) {
            long[] ids = new long[seq];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = 4 + random.nextInt(vocab - 4);
            }
            data.add(new TokenizedExample(ids, ids.clone()));
        }
        TrainConfig tc = TrainConfig.builder().steps(steps).batchSize(batch).learningRate(1e-4).evalEvery(0).maxLength(seq).build();
        new Trainer(trainable, data, List.of(), tc, listeners).run();
    }

    /** The median of {@code xs} (not empty): a step slowed by another process on the machine does not move it. */
    static double median(List<Double> xs) {
        double[] v = xs.stream().mapToDouble(x -> x).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    static final int PEAK_ROUNDS = 5;

    /**
     * Best FLOP rate of fp32 square matmuls on this machine (the denominator of MFU): every size warmed up
     * first, then {@link #PEAK_ROUNDS} rounds over the sizes, each timing its products one by one and taking
     * their median (as the training runs take their median step), the fastest such round kept.
     */
    static double matmulGflops() {
        Engines.noGradInThisThread();
        int[] sizes = {512, 1024, 2048};
        double best = 0;
        try (NDManager m = Engines.rootManager().newSubManager()) {
            NDArray[][] operands = new NDArray[sizes.length][];
            for (int i = 0; i < sizes.length; i++) {
                Shape shape = new Shape(sizes[i], sizes[i]);
                operands[i] = new NDArray[] {m.randomUniform(-1, 1, shape), m.randomUniform(-1, 1, shape)};
                operands[i][0].matMul(operands[i][1]).close(); // warm-up: thread pool, packing buffers, pages
            }
            for (int round = 0; round < PEAK_ROUNDS; round++) {
                for (int i = 0; i < sizes.length; i++) {
                    long n = sizes[i];
                    int reps = n >= 2048 ? 5 : n >= 1024 ? 11 : 41; // about 0.05 to 0.5 s each
                    List<Double> seconds = new ArrayList<>();
                    for (int k = 0; k < reps; k++) {
                        long start = System.nanoTime();
                        operands[i][0].matMul(operands[i][1]).close();
                        seconds.add((System.nanoTime() - start) / 1e9);
                    }
                    best = Math.max(best, 2.0 * n * n * n / median(seconds) / 1e9);
                }
            }
        }
        return best;
    }

    static String markdown(List<JsonObject> rows, double peak, int rounds) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "Matmul peak %.1f GFLOP/s (fp32, %d threads, best of %d rounds, each the median of its products, before and after the runs)."
                + " Each run is its own JVM; the methods of a shape ran in %d interleaved round(s) and tokens/s (batch x seq positions over the"
                + " median step time of a round) is each one's fastest round; the median of rounds compares each round with full fine-tuning's"
                + " round next to it."
                + " Model memory is counted: the arrays as trained (4-bit codes and scales for QLoRA's linear weights) and the method's own."
                + " Peak training memory is measured: the process RSS high-water mark while training (weights, gradients, optimiser state,"
                + " activations) above a baseline taken after a warm-up run of the same method on a 1-layer model, the largest of the rounds.%n%n", peak,
                ai.djl.pytorch.jni.JniUtils.getNumThreads(), PEAK_ROUNDS, rounds));
        s.append("| shape | method | params | trainable % | tokens/s | vs full | vs full, median of rounds | model memory"
                + " | peak training memory | MFU |\n");
        s.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (JsonObject r : rows) {
            JsonObject full = rows.stream().filter(x -> x.get("shape").equals(r.get("shape")) && x.get("method").getAsString().equals("full"))
                    .findFirst().orElse(null);
            double vsFull = full == null ? Double.NaN : r.get("tokens_per_s").getAsDouble() / full.get("tokens_per_s").getAsDouble();
            s.append(String.format(Locale.ROOT, "| %s (d%d x%d, b%d x %d) | %s | %,d | %.3f | %,.0f | %.2fx | %.2fx | %,.1f MB | %,.1f MB | %.0f%% |%n",
                    r.get("shape").getAsString(), r.get("d_model").getAsInt(), r.get("layers").getAsInt(), r.get("batch").getAsInt(),
                    r.get("seq").getAsInt(), r.get("method").getAsString(), r.get("params").getAsLong(), r.get("trainable_pct").getAsDouble(),
                    r.get("tokens_per_s").getAsDouble(), vsFull, full == null ? Double.NaN : pairedRatio(r, full), r.get("model_mb").getAsDouble(),
                    r.get("peak_mb").getAsDouble(), 100 * r.get("mfu").getAsDouble()));
        }
        return s.toString();
    }

    /**
     * The median over rounds of this method's tokens/s over full fine-tuning's in the same round: the two ran
     * minutes apart at most, so a slow or fast spell of the machine moves both, where the fastest rounds of each
     * may come from different spells.
     */
    static double pairedRatio(JsonObject method, JsonObject full) {
        com.google.gson.JsonArray a = method.getAsJsonArray("tokens_per_s_rounds");
        com.google.gson.JsonArray f = full.getAsJsonArray("tokens_per_s_rounds");
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < Math.min(a.size(), f.size()); i++) {
            ratios.add(a.get(i).getAsDouble() / f.get(i).getAsDouble());
        }
        return ratios.isEmpty() ? Double.NaN : median(ratios);
    }
}
