// 03-qlora-and-memory.jsh: the flow of notebooks/03-qlora-and-memory.ipynb as a JShell script.
// Run from the project folder: ./oneml shell notebooks/jsh/03-qlora-and-memory.jsh
// (./oneml shell imports oneml.*, oneml.data.*, oneml.model.*, oneml.peft.*, oneml.train.*, tech.tablesaw.api.*;
// the notebook kernel also imports the chart packages, imported here. A chained call stays on one line: jshell ends
// a statement at the first line break where it is complete.)
import oneml.viz.*;
import org.knowm.xchart.*;

// # QLoRA and memory
//
// **QLoRA** (Dettmers et al., 2023) is LoRA over a base model whose weights are stored in **4 bits**. The adapter is
// ordinary LoRA and trains in float32; only the frozen base is compressed. This notebook
//
// 1. quantises the embedded model and measures what that costs (bits per parameter, dequantisation error, perplexity),
// 2. trains LoRA and QLoRA side by side for a few steps and compares parameters, speed and accuracy,
// 3. explains where the memory saving comes from, and why it is paid for in speed.
//
// Runs on the oneml Java kernel, like `01-lora-quickstart.ipynb`.

// ## 1. Two copies of the base
//
// A PEFT method changes the model it is applied to (QLoRA quantises it in place), so each method gets its own copy of
// `Models.tiny()`. We score the first 100 test reviews of the sentiment task.

import java.util.List;
double round(double x, int decimals) {   // for readable tables
    double scale = Math.pow(10, decimals);
    return Math.round(x * scale) / scale;
}
var data = Datasets.sentiment();
var test = data.test().first(100);
var loraBase = Models.tiny();
var qloraBase = Models.tiny();
System.out.println(loraBase.config());

// ## 2. The QLoRA configuration
//
// `QLoRAConfig` takes every LoRA option (here the same rank, scale and targets as in notebook 01) plus how the base is
// stored: `quantType` (`nf4`, the default, or `fp4`), `blocksize` (64 weights share one scale) and `doubleQuant` (the
// scales themselves are quantised to 8 bits, in blocks of 256).

var qloraConfig = QLoRAConfig.builder().r(16).alpha(32).dropout(0.05).targetModules("q_proj", "v_proj").quantType("nf4").blocksize(64).doubleQuant(true).build();
var loraConfig = qloraConfig.lora();   // the same adapter, over a float32 base
System.out.println(qloraConfig);

// `Peft.apply` with a QLoRA config first quantises **every** linear weight of the base (adapter targets or not), then
// attaches LoRA. Embeddings and norms stay float32, as in bitsandbytes.

var lora = Peft.apply(loraBase, loraConfig);
var qlora = Peft.apply(qloraBase, qloraConfig);
lora.printTrainableParameters();
qlora.printTrainableParameters();
System.out.println(qlora);

// The trainable parameters are identical: QLoRA does not change the adapter, only the storage of what is frozen.
//
// ## 3. What 4 bits cost
//
// `quantization()` summarises the base's linear weights: how many, how many bytes they now take, bits per parameter
// (4 bits per code plus the scales: about 4.127 with double quantisation) and the error of the dequantised weights.

System.out.println(qloraBase.quantization());

var q = qloraBase.quantization();
Table.create("linear weights of the base",
        StringColumn.create("storage", "float32", q.config().type() + (q.config().doubleQuant() ? " + double quant" : "")),
        LongColumn.create("parameters", q.parameters(), q.parameters()),
        DoubleColumn.create("MB", round(q.parameters() * 4 / 1e6, 2), round(q.bytes() / 1e6, 2)),
        DoubleColumn.create("bits/param", 32.0, round(q.bitsPerParameter(), 3)),
        DoubleColumn.create("mean |error|", 0.0, round(q.meanAbsError(), 5)),
        DoubleColumn.create("max |error|", 0.0, round(q.maxAbsError(), 4)))

// The same measurement for the four storage formats: NF4 (levels placed at the quantiles of a normal distribution,
// which is how trained weights are spread) against FP4 (a tiny floating-point format), each with and without double
// quantisation. Each row quantises a fresh copy of the model.

var formats = Table.create("4-bit formats on the embedded model",
        StringColumn.create("quant type"), BooleanColumn.create("double quant"),
        DoubleColumn.create("bits/param"), DoubleColumn.create("mean |error|"), DoubleColumn.create("max |error|"));
for (String type : List.of("nf4", "fp4")) {
    for (boolean dq : List.of(true, false)) {
        try (var copy = Models.tiny()) {
            var s = copy.quantize(QLoRAConfig.builder().quantType(type).doubleQuant(dq).build().quant());
            formats.stringColumn("quant type").append(type);
            formats.booleanColumn("double quant").append(dq);
            formats.doubleColumn("bits/param").append(round(s.bitsPerParameter(), 3));
            formats.doubleColumn("mean |error|").append(round(s.meanAbsError(), 5));
            formats.doubleColumn("max |error|").append(round(s.maxAbsError(), 4));
        }
    }
}
System.out.println(formats);

// NF4 has the smaller error at the same size, which is why QLoRA uses it; double quantisation saves about 0.37
// bits per parameter (a float32 scale per 64 weights is 0.5 bits, an 8-bit one 0.125) at no visible cost in error.
//
// Does the error matter for the model? We measure the perplexity of each bare base (both adapters are still zero) on
// the 200 validation reviews. Perplexity is e raised to the average loss per token: roughly how many equally likely
// next tokens the model is hesitating between (lower is better; 1 would be certainty). We measure it twice: on the
// reviews as the task writes them (`review : ... sentiment :`) and with those markers stripped. The pretraining corpus has sentences like the reviews but never the markers, so on the marked text both
// bases are confused by tokens they never saw in that order, and that confusion swamps the small effect we are
// looking for; the stripped text is text the model knows, where a change in perplexity measures the 4-bit damage.

var prompts = data.validation().stringColumn("prompt");
var stripped = StringColumn.create("text");   // the review alone, as the pretraining corpus has such sentences
for (String s : prompts) {
    stripped.append(s.replaceFirst("^review : ", "").replaceFirst(" sentiment :$", ""));
}
var texts = List.of(Table.create("with the task's markers", prompts.copy().setName("text")), Table.create("markers stripped", stripped));
System.out.println(prompts.get(0) + "\n" + stripped.get(0));
var ppl = Table.create("perplexity of the bare bases on the 200 validation reviews", StringColumn.create("text"), DoubleColumn.create("float32"), DoubleColumn.create("NF4 + double quant"), DoubleColumn.create("change %"));
for (var t : texts) {
    double f = Eval.perplexity(lora, t), n = Eval.perplexity(qlora, t);
    ppl.stringColumn("text").append(t.name());
    ppl.doubleColumn("float32").append(round(f, 3));
    ppl.doubleColumn("NF4 + double quant").append(round(n, 3));
    ppl.doubleColumn("change %").append(round(100 * (n / f - 1), 2));
}
System.out.println(ppl);

// On the marked prompts the float32 base's perplexity is 188.428: the markers make the text unlike anything
// the model was trained on. On the stripped reviews it is 3.579, and the NF4 base's 3.585, a change of
// 0.18%: a small, fixed perturbation of the base, which the adapter trained on top of it can learn around
// (QLoRA's bet). (On the marked text the change reads 2.14%, a figure about text the model does not know.)
//
// ## 4. Train both
//
// The same short run for each: 30 steps, learning rate 5e-3, validation every 15 steps, one seed. A 4-bit base makes
// the trainer recompute each block in the backward pass (gradient checkpointing) once its float32 linear weights
// would take 64 MiB or more; this 3M-parameter base is far below that, so here it trains like LoRA. See section 6.

var before = Eval.accuracy(lora, test);
var loraRun = Train.of(lora, data).steps(30).learningRate(5e-3).evalEvery(15).seed(0).run();
System.out.println(loraRun);

var qloraRun = Train.of(qlora, data).steps(30).learningRate(5e-3).evalEvery(15).seed(0).run();
System.out.println(qloraRun);

var lossChart = new XYChartBuilder().width(640).height(360).title("LoRA vs QLoRA on sentiment: training loss").xAxisTitle("step").yAxisTitle("cross-entropy loss").build();
lossChart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
lossChart.getStyler().setMarkerSize(4);
lossChart.addSeries("LoRA (float32 base)", loraRun.history().doubleColumn("step").asDoubleArray(),
        loraRun.history().doubleColumn("loss").asDoubleArray());
lossChart.addSeries("QLoRA (NF4 base)", qloraRun.history().doubleColumn("step").asDoubleArray(),
        qloraRun.history().doubleColumn("loss").asDoubleArray());
var chart1__ = lossChart;
System.out.println("[chart] " + chart1__.getTitle());

// The two curves nearly coincide: the adapter learns the same thing over a slightly perturbed base.
//
// ## 5. Before and after

var loraAfter = Eval.accuracy(lora, test);
var qloraAfter = Eval.accuracy(qlora, test);
System.out.println(test.getString(0, "prompt") + " -> " + qlora.generate(test.getString(0, "prompt"), 2));
System.out.println(Table.create("LoRA vs QLoRA, 30 steps (first 100 test reviews)",
        StringColumn.create("method", "LoRA", "QLoRA"),
        LongColumn.create("trainable params", lora.trainableParameterCount(), qlora.trainableParameterCount()),
        DoubleColumn.create("accuracy before", before.accuracy(), before.accuracy()),
        DoubleColumn.create("accuracy after", loraAfter.accuracy(), qloraAfter.accuracy()),
        DoubleColumn.create("final train loss", round(loraRun.finalTrainLoss(), 4), round(qloraRun.finalTrainLoss(), 4)),
        DoubleColumn.create("tokens/s (median step)", round(loraRun.steadyTokensPerSecond(), 0), round(qloraRun.steadyTokensPerSecond(), 0))));

// ("accuracy before" is the float32 base for both: the adapters start at zero.) After 30 steps LoRA answers
// 0.99 and QLoRA 0.99 of the first 100 test reviews correctly (one seed each: a difference of a
// review or two is noise). The tokens/s column is the median step after a warm-up, validation not counted: here
// 55 for LoRA and 69 for QLoRA, about forty times
// below the same LoRA step in notebook 01 (about 2,000 tokens/s there): LoRA's 30 steps took
// 120.8 s, most likely because other programs were using the machine's two cores.
// That QLoRA reads faster than LoRA in this run is noise, not a finding (it does strictly more work per step);
// `./oneml bench` is the place to measure speed.
//
// ## 6. Where the memory goes, and what it costs
//
// Training memory is roughly **weights + activations kept for backward + adapter and optimiser state**.
//
// * **4-bit base.** Every linear weight is kept as 4-bit codes plus one scale per block of 64; with double quantisation
//   the scales are 8-bit too, about 4.13 bits per parameter instead of 32, so the stored linear weights take ~7.8× less
//   memory than float32 (~3.9× less than bf16, the usual precision of a large base). To compute, a layer dequantises its
//   weight to float32.
// * **What happens to that float32 weight depends on the model's size.** Plain backward needs each layer's weight
//   again, so autograd (libtorch's automatic differentiation, which records what backward will need) keeps every dequantised float32 weight alive until the gradient reaches that layer. With a
//   4-bit base whose float32 linear weights would take 64 MiB or more, the trainer checkpoints per block instead: the
//   forward pass keeps only each block's input, and backward re-runs one block at a time (dequantising its weights
//   again), so at most one block's float32 weights and activations are alive at once. **Below 64 MiB, which is this
//   notebook's case, nothing is recomputed**: during a step QLoRA holds the 4-bit codes *and* a float32 copy of every
//   linear weight, so its training peak is not below LoRA's here (notebook 02 measures both). The trainer does this on
//   purpose: at this size the dequantised weights are small next to the activations and recomputing would only cost
//   time (`TrainConfig.gradientCheckpointing(true)` forces it).
// * **The adapter and AdamW's two moments** are float32 and tiny (a few percent of the parameters), so they are the
//   same for LoRA and QLoRA.
//
// The price is speed: every step dequantises every weight (twice with recompute, which also runs each block's forward
// twice). The README's bench table measures QLoRA at about 0.84x LoRA's tokens/s at the tiny shape (no recompute),
// 0.42x at the large shape and about 0.25x at the wide one (both recompute), and QLoRA's peak training memory at 0.25x
// LoRA's at the large shape: the saving is real where the weights dominate, and it is paid for in time. On this
// 3M-parameter model all of this is a few megabytes. `QLoraMemoryTest` checks QLoRA's peak is below LoRA's on a larger
// configuration.

var memory = new CategoryChartBuilder().width(640).height(360).title("Linear weights of the base: float32 vs 4-bit").xAxisTitle("storage").yAxisTitle("megabytes").build();
memory.getStyler().setLegendVisible(false);
memory.addSeries("linear weights", List.of("float32", "NF4 + double quant"), List.of(q.parameters() * 4 / 1e6, q.bytes() / 1e6));
var chart2__ = memory;
System.out.println("[chart] " + chart2__.getTitle());

var speed = new CategoryChartBuilder().width(640).height(360).title("Training throughput, median step after warm-up (30 steps, 2 CPU cores)").xAxisTitle("method").yAxisTitle("tokens per second").build();
speed.getStyler().setLegendVisible(false);
speed.addSeries("tokens/s", List.of("LoRA", "QLoRA"), List.of(loraRun.steadyTokensPerSecond(), qloraRun.steadyTokensPerSecond()));
var chart3__ = speed;
System.out.println("[chart] " + chart3__.getTitle());

// QLoRA's adapter saves like LoRA's (PEFT type `LORA`), plus the README.md model card where PEFT records the
// bitsandbytes config of the base it was trained on. `Peft.load(base, dir, QuantConfig.qlora())` loads it onto that
// 4-bit base; `Peft.load(base, dir)` takes the base as it is. Moving an adapter between bases is not free: it was
// trained to correct the 4-bit base's particular rounding, so on a float32 base (for example to merge it in full
// precision) its outputs drift a little from what it was trained with; the model's summary notes the difference, and
// exercise 3 measures it. Loaded adapters are frozen, as PEFT's `from_pretrained` loads them; pass `true` as the last
// argument to continue training. A model saved in 4 bits (`Models.save`) is written in bitsandbytes' layout and loads
// back in 4 bits, as do such checkpoints from the Hugging Face Hub. Notebook 05 shows saving, reloading and merging.
//
// ## Takeaways
//
// * NF4 with double quantisation stores linear weights in 4.127 bits; on text the model knows, the 4-bit base's
//   perplexity is within a fraction of a percent of the float32 base's.
// * LoRA over a 4-bit base trains to the same accuracy here as over a float32 base (one seed, 30 steps).
// * The memory saving needs large weights and comes with recompute and dequantisation time; on a 3M-parameter model
//   QLoRA saves nothing worth having and is slower (0.84x LoRA's tokens/s in the README's bench; this notebook's own
//   timings are too noisy to show it). Here plain LoRA, or full fine-tuning (notebook 02), is the choice.
// * QLoRA's paper adds paged optimizers (optimizer state moved to CPU memory under GPU memory pressure) as its third
//   contribution; oneml trains on CPU and has no equivalent.
//
// ## Exercises
//
// 1. Run sections 3 and 4 with `quantType("fp4")`: does FP4's larger error show in the perplexity on stripped text, or
//    in accuracy?
// 2. Force recompute with `Train...gradientCheckpointing(true)` for the QLoRA run and compare its tokens/s with and
//    without.
// 3. Save the QLoRA adapter, load it onto a float32 `Models.tiny()` with `Peft.load(base, dir)`, and compare its
//    accuracy and perplexity with the 4-bit base's: how large is the drift?
// 4. Rank sweep: QLoRA with r = 4, 16, 64 on `Datasets.facts()`, where the task needs more than a label word.

System.out.println("03-qlora-and-memory: done");
/exit
