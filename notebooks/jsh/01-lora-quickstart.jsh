// 01-lora-quickstart.jsh: the flow of notebooks/01-lora-quickstart.ipynb as a JShell script.
// Run from the project folder: ./oneml shell notebooks/jsh/01-lora-quickstart.jsh
// (./oneml shell imports oneml.*, oneml.data.*, oneml.model.*, oneml.peft.*, oneml.train.*, tech.tablesaw.api.*;
// the notebook kernel also imports the chart packages, imported here. A chained call stays on one line: jshell ends
// a statement at the first line break where it is complete.)
import oneml.viz.*;
import org.knowm.xchart.*;

// # LoRA quickstart
//
// Fine-tune oneml's embedded model on a sentiment task with **LoRA**, from Java, in a notebook.
//
// LoRA freezes the model's weights and learns a small low-rank update `B·A` next to chosen linear layers, so only a
// few percent of the parameters train and the adapter saves as a few hundred kilobytes.
//
// This notebook runs on the oneml Java kernel (`./oneml kernel install --user`): cells are JShell, and
// `oneml.*`, Tablesaw and XChart are already imported.

// ## 1. Model and data
//
// `Models.tiny()` is the embedded default, a 3.1M-parameter Llama-layout model trained on oneml's synthetic corpus.
// The sentiment dataset has a prompt (a short review) and a response (`positive` or `negative`).

var base = Models.tiny();
var data = Datasets.sentiment();
System.out.println(data);

// Each split is a Tablesaw `Table`; a table as the last expression of a cell is shown as HTML.

System.out.println(data.train().first(5));

// ## 2. Before fine-tuning
//
// The base model has never seen this task. We ask it to continue a test prompt, and score exact-match accuracy of
// its answers on the first 100 test reviews.

String prompt = data.test().getString(0, "prompt");
System.out.println(prompt + " -> " + base.generate(prompt, 2));
var before = Eval.accuracy(base, data.test().first(100));
System.out.println(before);

// ## 3. The LoRA configuration
//
// * `r`: the rank of the update (the size of the bottleneck),
// * `alpha`: its scale (the update is multiplied by `alpha / r`),
// * `dropout`: dropout on the adapter's input while training,
// * `targetModules`: which linear layers get an adapter, here the attention's query and value projections.

var lora = LoRAConfig.builder().r(16).alpha(32).dropout(0.05).targetModules("q_proj", "v_proj").build();
System.out.println(lora);

// `Peft.apply` wraps the base model: the base stays frozen, only the adapter's `A` and `B` matrices train.

var model = Peft.apply(base, lora);
model.printTrainableParameters();
System.out.println(model);

// ## 4. Train
//
// A short run: 40 optimiser steps, validated every 20. The progress line below updates in place while it trains.

var run = Train.of(model, data).steps(40).learningRate(2e-3).evalEvery(20).seed(0).run();
System.out.println(run);

// `run.history()` is a Tablesaw table with one row per step:

System.out.println(run.history().last(5));

// ## 5. The loss curve
//
// An XChart line chart of the training loss per step, with the validation checks on top. (`Charts.loss(run)`
// draws the same chart, with a moving average, in one call.)

var h = run.history();
var ev = run.evaluations();
var chart = new XYChartBuilder().width(640).height(360).title("LoRA r=16 on sentiment: loss").xAxisTitle("step").yAxisTitle("cross-entropy loss").build();
chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
chart.addSeries("training loss", h.doubleColumn("step").asDoubleArray(), h.doubleColumn("loss").asDoubleArray());
if (ev.rowCount() > 0) {
    chart.addSeries("validation loss", ev.intColumn("step").asDoubleArray(), ev.doubleColumn("val_loss").asDoubleArray());
}
var chart1__ = chart;
System.out.println("[chart] " + chart1__.getTitle());

// ## 6. After fine-tuning
//
// The same prompt and the same 100 test reviews, now through the model with its adapter.

System.out.println(prompt + " -> " + model.generate(prompt, 2));
var after = Eval.accuracy(model, data.test().first(100));
System.out.println(Table.create("test accuracy (first 100 reviews)",
        StringColumn.create("model", "base", "base + LoRA, 40 steps"),
        DoubleColumn.create("accuracy", before.accuracy(), after.accuracy())));

// Forty steps are enough to learn the label words on this small task. Try another rank, more steps
// (`.steps(300)`, as in the README), or DoRA (`.useDora(true)` in the configuration).
//
// ## 7. Save the adapter
//
// `save` writes the Hugging Face PEFT format (`adapter_config.json` and `adapter_model.safetensors`), which
// `PeftModel.load` and Python's `peft` both read.

var dir = java.nio.file.Files.createTempDirectory("sentiment-lora");
model.save(dir);
try (var files = java.nio.file.Files.list(dir)) {
    files.sorted().forEach(f -> System.out.println(f.getFileName()));
}

System.out.println("01-lora-quickstart: done");
/exit
