// 04-prefix-prompt-adapters.jsh: the flow of notebooks/04-prefix-prompt-adapters.ipynb as a JShell script.
// Run from the project folder: ./oneml shell notebooks/jsh/04-prefix-prompt-adapters.jsh
// (./oneml shell imports oneml.*, oneml.data.*, oneml.model.*, oneml.peft.*, oneml.train.*, tech.tablesaw.api.*;
// the notebook kernel also imports the chart packages, imported here. A chained call stays on one line: jshell ends
// a statement at the first line break where it is complete.)
import oneml.viz.*;
import org.knowm.xchart.*;

// # Prompt tuning, prefix tuning and bottleneck adapters
//
// LoRA changes weights. Three other PEFT families leave every weight alone and add something to the computation instead:
//
// * **prompt tuning** learns a few *virtual tokens*: embeddings placed in front of every input,
// * **prefix tuning** learns keys and values that every attention layer attends to before the real tokens,
// * **bottleneck adapters** insert a small MLP (down-projection, non-linearity, up-projection) after a sub-layer of
//   every block.
//
// This notebook compares how much each trains, trains each briefly, and then uses bottleneck adapters for
// **multi-task** work: one adapter per task on one frozen base, switched with `setAdapter` or combined with
// `compose`.

// ## 1. Three configurations
//
// Eight virtual tokens for prompt and prefix tuning; the Pfeiffer adapter (after each MLP, bottleneck
// `hidden / 16`, ReLU). `Compose` lives in `oneml.peft.adapter`, which the kernel does not import by default.

import java.util.List;
import oneml.peft.adapter.Compose;
double round(double x, int decimals) {   // for readable tables
    double scale = Math.pow(10, decimals);
    return Math.round(x * scale) / scale;
}
var data = Datasets.sentiment();
var topic = Datasets.topic();
var prompt = PromptTuningConfig.builder().numVirtualTokens(8).promptTuningInit(PromptTuningConfig.Init.SAMPLE_VOCAB).build();
var prefix = PrefixTuningConfig.builder().numVirtualTokens(8).build();
var adapter = AdapterConfig.pfeiffer();
var lora = LoRAConfig.builder().r(16).alpha(32).targetModules("q_proj", "v_proj").build();
System.out.println(adapter);

// Each method on its own copy of the embedded model (LoRA from notebook 01 for reference):

var configs = List.<PeftConfig>of(prompt, prefix, adapter, lora);
var models = new java.util.ArrayList<PeftModel>();
var sizes = Table.create("trainable parameters per method",
        StringColumn.create("method"), StringColumn.create("trainable arrays (layer prefix dropped)"),
        LongColumn.create("trainable params"), LongColumn.create("all params"), DoubleColumn.create("trainable %"));
for (var c : configs) {
    var m = Peft.apply(Models.tiny(), c);
    models.add(m);
    var kinds = new java.util.TreeSet<String>();   // PEFT file keys, without the path up to the layer
    m.trainableParameters().forEach((k, v) -> kinds.add(k.replaceAll("^base_model\\.model\\.model\\.layers\\.\\d+\\.", "")));
    sizes.stringColumn("method").append(c.label());
    sizes.stringColumn("trainable arrays (layer prefix dropped)").append(String.join(", ", kinds));
    sizes.longColumn("trainable params").append(m.trainableParameterCount());
    sizes.longColumn("all params").append(m.allParameterCount());
    sizes.doubleColumn("trainable %").append(round(100.0 * m.trainableParameterCount() / m.allParameterCount(), 3));
}
System.out.println(sizes);

// Prompt tuning trains the fewest parameters (8 × 256 embedding values); prefix tuning trains a key and a value
// vector per virtual token *per layer*; the adapters train two small matrices per block.

var share = new CategoryChartBuilder().width(640).height(360).title("Share of the parameters that train").xAxisTitle("method").yAxisTitle("trainable parameters (% of all)").build();
share.getStyler().setLegendVisible(false);
share.addSeries("trainable %", sizes.stringColumn("method").asList(), sizes.doubleColumn("trainable %").asList());
var chart1__ = share;
System.out.println("[chart] " + chart1__.getTitle());

// ## 2. A short run of each
//
// Thirty steps of each on the sentiment task. Methods that add inputs instead of changing weights want a much higher
// learning rate: prefix tuning barely moves at 1e-2 in thirty steps (final loss about 7, accuracy 0) and needs 1e-1;
// prompt tuning runs at 3e-2. These are starting points, not tuned values.

var test = data.test().first(100);
double[] learningRates = {3e-2, 1e-1, 1e-2, 5e-3};
var runs = new java.util.ArrayList<TrainingRun>();
var results = Table.create("sentiment after 30 steps (first 100 test reviews)",
        StringColumn.create("method"), DoubleColumn.create("learning rate"), DoubleColumn.create("final train loss"),
        DoubleColumn.create("accuracy"), DoubleColumn.create("seconds"));
for (int i = 0; i < models.size(); i++) {
    var m = models.get(i);
    var run = Train.of(m, data).steps(30).learningRate(learningRates[i]).evalEvery(15).seed(0).quiet().run();
    runs.add(run);
    results.stringColumn("method").append(configs.get(i).label());
    results.doubleColumn("learning rate").append(learningRates[i]);
    results.doubleColumn("final train loss").append(round(run.finalTrainLoss(), 4));
    results.doubleColumn("accuracy").append(Eval.accuracy(m, test).accuracy());
    results.doubleColumn("seconds").append(round(run.seconds(), 1));
}
System.out.println(results);

var curves = new XYChartBuilder().width(640).height(360).title("Training loss on sentiment, 30 steps").xAxisTitle("step").yAxisTitle("cross-entropy loss").build();
curves.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
curves.getStyler().setMarkerSize(3);
for (int i = 0; i < runs.size(); i++) {
    var h = runs.get(i).history();
    curves.addSeries(configs.get(i).label(), h.doubleColumn("step").asDoubleArray(), h.doubleColumn("loss").asDoubleArray());
}
var chart2__ = curves;
System.out.println("[chart] " + chart2__.getTitle());

// ## 3. One base, one adapter per task
//
// Bottleneck adapters are independent modules, so one frozen base can carry several. We create a PEFT model with an
// adapter named `sentiment`, add one named `topic`, and train each on its own task for 60 steps (topic, with four labels, needs more than thirty): `setAdapter` chooses which
// adapter runs and trains.

var base = Models.tiny();
var multi = PeftModel.create(base, AdapterConfig.pfeiffer(), "sentiment", 7);
multi.addAdapter("topic", AdapterConfig.pfeiffer(), 8);
var tasks = new java.util.LinkedHashMap<String, TextDataset>();
tasks.put("sentiment", data);
tasks.put("topic", topic);
for (var task : tasks.entrySet()) {
    multi.setAdapter(task.getKey());
    var run = Train.of(multi, task.getValue()).steps(60).learningRate(1e-2).evalEvery(30).seed(0).quiet().run();
    System.out.println(task.getKey() + ": " + run);
}
System.out.println(multi);

// Every combination of adapter and task: the bare base (`disableAdapters()`), each adapter alone (`setAdapter`), and
// both adapters averaged (`compose(Compose.average("sentiment", "topic"))`: at each adapter position the output is the
// mean of what the two adapters would produce).

var setups = List.of("base (adapters off)", "sentiment adapter", "topic adapter", "Average(sentiment, topic)");
var perTask = Table.create("accuracy per task and adapter (first 100 test rows)", StringColumn.create("adapters", setups));
for (var task : tasks.entrySet()) {
    var rows = task.getValue().test().first(100);
    var acc = DoubleColumn.create(task.getKey());
    try (var off = multi.disableAdapters()) {
        acc.append(Eval.accuracy(multi, rows).accuracy());
    }
    multi.setAdapter("sentiment");
    acc.append(Eval.accuracy(multi, rows).accuracy());
    multi.setAdapter("topic");
    acc.append(Eval.accuracy(multi, rows).accuracy());
    multi.compose(Compose.average("sentiment", "topic"));
    acc.append(Eval.accuracy(multi, rows).accuracy());
    multi.setAdapter("sentiment"); // back to one adapter
    perTask.addColumns(acc);
}
System.out.println(perTask);

var grouped = new CategoryChartBuilder().width(720).height(380).title("Accuracy per task with each adapter setup").xAxisTitle("adapters").yAxisTitle("exact-match accuracy").build();
grouped.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
grouped.getStyler().setYAxisMin(0.0);
grouped.getStyler().setYAxisMax(1.0);
for (var task : tasks.keySet()) {
    grouped.addSeries(task + " task", setups, perTask.doubleColumn(task).asList());
}
var chart3__ = grouped;
System.out.println("[chart] " + chart3__.getTitle());

// Each adapter is good at its own task and useless on the other, and the bare base knows neither. Switching with
// `setAdapter` is free: the base is shared, only a few kilobytes of adapter weights per task.
//
// The average is a caution rather than a trick: it keeps the sentiment skill and loses the topic one. Each adapter was
// trained alone, and half of each update is not guaranteed to keep either skill. To combine tasks, weight the average
// (`Compose.average(...).withWeights(1, 3)`), train one adapter *under* the composition (`setAdapter`, then `compose`:
// only the active adapter updates), or use `Compose.parallel`, which answers with every adapter in one batched forward
// pass. `Compose.stack` feeds one adapter's output into the next (MAD-X style language + task adapters).
//
// Adapters save one folder each (`multi.save(dir)` writes `sentiment/` and `topic/`), in oneml's `BOTTLENECK`
// format with AdapterHub's tensor names; a composition is a runtime choice and is not saved.

var saved = java.nio.file.Files.createTempDirectory("multi-task");
multi.save(saved);
try (var files = java.nio.file.Files.walk(saved)) {
    files.filter(java.nio.file.Files::isRegularFile).sorted().forEach(f -> System.out.println(saved.relativize(f)));
}

System.out.println("04-prefix-prompt-adapters: done");
/exit
