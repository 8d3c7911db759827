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
// Does the error matter for the model? Perplexity of each base on the text of the 200 validation reviews (the kind
// of text it was pretrained on; both adapters are still zero, so these are the bare bases):

var reviews = Table.create("validation reviews", data.validation().stringColumn("prompt").copy().setName("text"));
double pplFloat = Eval.perplexity(lora, reviews);
double pplNf4 = Eval.perplexity(qlora, reviews);
System.out.println(Table.create("perplexity on review text, before training",
        StringColumn.create("base", "float32", "NF4 + double quant"),
        DoubleColumn.create("perplexity", round(pplFloat, 3), round(pplNf4, 3)),
        DoubleColumn.create("change %", 0.0, round(100 * (pplNf4 / pplFloat - 1), 2))));

// About 2% higher perplexity from 4-bit weights: a small, fixed perturbation of the base, which the adapter trained on
// top of it can learn around (QLoRA's bet).
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
        DoubleColumn.create("seconds", round(loraRun.seconds(), 1), round(qloraRun.seconds(), 1)),
        DoubleColumn.create("tokens/s", round(loraRun.tokensPerSecond(), 0), round(qloraRun.tokensPerSecond(), 0))));

// ("accuracy before" is the float32 base for both: the adapters start at zero.)
//
// ## 6. Where the memory goes, and what it costs
//
// Training memory is roughly **weights + activations kept for backward + adapter and optimiser state**.
// QLoRA shrinks the first two:
//
// * **4-bit base.** Every linear weight is kept as 4-bit codes plus one scale per block of 64; with double quantisation
//   the scales are 8-bit too, about 4.13 bits per parameter instead of 32, so the linear weights take ~7.8× less memory.
//   The float32 weight of a layer exists only while that layer computes: it is dequantised, used and freed.
// * **Per-block recompute.** Plain backward would keep every block's dequantised weights and intermediate activations
//   alive until the gradient reaches them. With a 4-bit base whose float32 linear weights would take 64 MiB or more,
//   the trainer checkpoints per block instead: the forward pass keeps only each block's input, and backward re-runs
//   one block at a time (dequantising its weights again), so at most one block's float32 weights and activations are
//   alive at once. Below that size the dequantised weights are small next to the activations and recomputing would
//   only cost time, so the trainer does not (`TrainConfig.gradientCheckpointing(true)` forces it).
// * **The adapter and AdamW's two moments** are float32 and tiny (a few percent of the parameters), so they are the
//   same for LoRA and QLoRA.
//
// The price is speed: with recompute every step dequantises every weight twice (forward and recompute) and runs each
// block's forward twice; without it, once, a small part of a step at this size (`./oneml bench` measures QLoRA at about
// 0.85x LoRA's tokens/s here and about half of it on the larger shapes that recompute). The tokens/s in the table above
// come from short runs, the first of them paying for the kernel's warm-up, so read them loosely. On this
// 3M-parameter model all of this is a few megabytes; the
// saving matters when the weights dominate. `./oneml bench` measures peak memory on a larger configuration
// (`QLoraMemoryTest` checks QLoRA's peak is below LoRA's there).

var memory = new CategoryChartBuilder().width(640).height(360).title("Linear weights of the base: float32 vs 4-bit").xAxisTitle("storage").yAxisTitle("megabytes").build();
memory.getStyler().setLegendVisible(false);
memory.addSeries("linear weights", List.of("float32", "NF4 + double quant"), List.of(q.parameters() * 4 / 1e6, q.bytes() / 1e6));
var chart2__ = memory;
System.out.println("[chart] " + chart2__.getTitle());

var speed = new CategoryChartBuilder().width(640).height(360).title("Training throughput, 30 steps on 2 CPU cores").xAxisTitle("method").yAxisTitle("tokens per second").build();
speed.getStyler().setLegendVisible(false);
speed.addSeries("tokens/s", List.of("LoRA", "QLoRA"), List.of(loraRun.tokensPerSecond(), qloraRun.tokensPerSecond()));
var chart3__ = speed;
System.out.println("[chart] " + chart3__.getTitle());

// QLoRA's adapter saves like LoRA's (PEFT type `LORA`), plus the README.md model card where PEFT records the
// bitsandbytes config of the base it was trained on. `Peft.load(base, dir, QuantConfig.qlora())` loads it onto that
// 4-bit base; `Peft.load(base, dir)` takes the base as it is (on a float32 base, for merging into full precision, the
// model's summary notes the difference). Loaded adapters are frozen, as PEFT's `from_pretrained` loads them; pass
// `true` as the last argument to continue training. A model saved in 4 bits (`Models.save`) is written in bitsandbytes'
// layout and loads back in 4 bits, as do such checkpoints from the Hugging Face Hub.
// Notebook 04 shows saving, reloading and merging.

System.out.println("03-qlora-and-memory: done");
/exit
