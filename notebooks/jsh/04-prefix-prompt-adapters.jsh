// 04-prefix-prompt-adapters.jsh: the flow of notebooks/04-prefix-prompt-adapters.ipynb as a JShell script.
// Run from the project folder: ./oneml shell notebooks/jsh/04-prefix-prompt-adapters.jsh
// (./oneml shell imports oneml.*, oneml.data.*, oneml.model.*, oneml.peft.*, oneml.train.*, tech.tablesaw.api.*;
// the notebook kernel also imports the chart packages, imported here. A chained call stays on one line: jshell ends
// a statement at the first line break where it is complete.)
import oneml.viz.*;
import org.knowm.xchart.*;

// # Prompt tuning, prefix tuning and bottleneck adapters
//
// Every PEFT method here freezes the base's weights. LoRA adds a low-rank update *to* chosen weight matrices, which is
// why it can later be merged into them. Three other families add something to the computation instead, which stays
// a separate step at inference:
//
// * **prompt tuning** learns a few *virtual tokens*: embeddings placed in front of every input,
// * **prefix tuning** learns keys and values that every attention layer attends to before the real tokens,
// * **bottleneck adapters** insert a small MLP (down-projection, non-linearity, up-projection) after a sub-layer of
//   every block.
//
// This notebook compares how much each trains, trains each briefly, and then uses bottleneck adapters for
// **multi-task** work: one adapter per task on one frozen base, switched with `setAdapter` or combined with
// `compose`. (Any method here can keep several named adapters on one base; adapters are the family built for
// combining them.)

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

// Prompt tuning trains the fewest parameters (8 × 256 = 2048 embedding values); prefix tuning trains a key
// and a value vector per virtual token *per layer* (8192); the adapters train two small matrices per block
// (33856), LoRA r=16 on two projections per block 57344.

var share = new CategoryChartBuilder().width(640).height(360).title("Share of the parameters that train").xAxisTitle("method").yAxisTitle("trainable parameters (% of all)").build();
share.getStyler().setLegendVisible(false);
share.getStyler().setXAxisLabelRotation(15);   // four long names side by side overlap
share.getStyler().setLabelsVisible(true);
share.getStyler().setDecimalPattern("0.###");   // 0.066, not .066
share.addSeries("trainable %", sizes.stringColumn("method").asList(), sizes.doubleColumn("trainable %").asList());
var chart1__ = share;
System.out.println("[chart] " + chart1__.getTitle());

// ## 2. A short run of each
//
// Thirty steps of each on the sentiment task, one seed. Methods that add inputs instead of changing weights want a much
// higher learning rate (prefix tuning 1e-1, prompt tuning 3e-2, against 5e-3 for LoRA); these are starting points,
// not tuned values, and exercise 2 asks what a lower one does. The tokens/s column is the median step after a
// warm-up, validation not counted; single short runs on a shared machine are noisy (`./oneml bench` measures speed).

var test = data.test().first(100);
double[] learningRates = {3e-2, 1e-1, 1e-2, 5e-3};
var runs = new java.util.ArrayList<TrainingRun>();
var results = Table.create("sentiment after 30 steps (first 100 test reviews)",
        StringColumn.create("method"), DoubleColumn.create("learning rate"), DoubleColumn.create("final train loss"),
        DoubleColumn.create("accuracy"), DoubleColumn.create("tokens/s (median step)"));
for (int i = 0; i < models.size(); i++) {
    var m = models.get(i);
    var run = Train.of(m, data).steps(30).learningRate(learningRates[i]).evalEvery(15).seed(0).quiet().run();
    runs.add(run);
    results.stringColumn("method").append(configs.get(i).label());
    results.doubleColumn("learning rate").append(learningRates[i]);
    results.doubleColumn("final train loss").append(round(run.finalTrainLoss(), 4));
    results.doubleColumn("accuracy").append(Eval.accuracy(m, test).accuracy());
    results.doubleColumn("tokens/s (median step)").append(round(run.steadyTokensPerSecond(), 0));
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

// After 30 steps the two virtual-token methods answer 0.67 (prompt) and 0.68 (prefix) of the first
// 100 test reviews correctly, the adapter 0.98 and LoRA 0.99, with final training losses
// 0.4125, 0.4075, 0.1231 and 0.0435. On the loss chart LoRA and the adapter
// start at the base model's loss (their updates start at zero) and prompt and prefix tuning below it (the virtual tokens
// change the input from the first step); the adapter drops fastest, and from about step 20 the virtual-token methods
// level off near 0.4 while the other two go on down. One seed and untuned learning rates: this says the virtual-token
// methods learn more slowly *here*, on a 3M-parameter model. Prompt tuning is known to catch up with full fine-tuning
// only on models of billions of parameters (Lester et al., 2021), so a low score on a tiny model is expected, not a
// verdict on the method. Prefix tuning, which acts in every layer, came close to full fine-tuning on GPT-2 and BART
// models of a few hundred million parameters in its own paper (Li and Liang, 2021), trained on full datasets; 30 steps
// at an untuned learning rate do not test that.
//
// The tokens/s column, from 59 (prompt tuning, which ran first) to
// 770 (LoRA), shows the machine's load more than the methods: the same LoRA step runs
// at about 2,000 tokens/s in notebook 01, and section 3's trainings below took 98.3 and
// 104.3 s for 60 steps each. Compare speeds with `./oneml bench`.

// ## 3. One base, one adapter per task
//
// One frozen base can carry several named adapters. We create a PEFT model with an adapter named `sentiment`, add one
// named `topic`, and train each on its own task for 60 steps (topic, with four labels, needs more than thirty):
// `setAdapter` chooses which adapter runs and trains. The last argument of `PeftModel.create` and `addAdapter` (7, 8)
// is the random seed for that adapter's initial weights, so that a rerun starts from the same numbers.

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

// Every combination of adapter and task: the bare base, each adapter alone (`setAdapter`), and both adapters averaged
// (`compose(Compose.average("sentiment", "topic"))`: at each adapter position the output is the mean of what the two
// adapters would produce). `try (var off = multi.disableAdapters()) { ... }` switches every adapter off for the
// lines inside the braces and back on when they end, even if one of them fails.

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

var grouped = new CategoryChartBuilder().width(720).height(380).title("Accuracy per task with each adapter setup (bars labelled; 0 = no correct answer)").xAxisTitle("adapters").yAxisTitle("exact-match accuracy").build();
grouped.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
grouped.getStyler().setYAxisMin(0.0);
grouped.getStyler().setYAxisMax(1.1);
grouped.getStyler().setLabelsVisible(true);   // a zero bar is a measured 0, not a missing one
for (var task : tasks.keySet()) {
    grouped.addSeries(task + " task", setups, perTask.doubleColumn(task).asList());
}
var chart3__ = grouped;
System.out.println("[chart] " + chart3__.getTitle());

// Each adapter is good at its own task (0.98 sentiment, 0.96 topic) and scores
// 0 on the other, and the bare base scores 0 on both: a 0 here is a measured score (no answer
// was the exact label word), not missing data. Switching with `setAdapter` is free: the base is shared, and each task
// adds only its adapter, 33856 parameters, about 135 kB in float32.
//
// The average is a caution rather than a trick: it scores 0.98 on sentiment and 0 on topic. Each
// adapter was trained alone, and half of each update is not guaranteed to keep either skill. To combine tasks, weight
// the average (`Compose.average(...).withWeights(1, 3)`), train one adapter *under* the composition (`setAdapter`,
// then `compose`: only the active adapter updates), or use `Compose.parallel`, which answers with every adapter in one
// batched forward pass. `Compose.stack` feeds one adapter's output into the next (as in MAD-X, Pfeiffer et al.
// 2020: a task adapter stacked on a language adapter).
//
// Adapters save one folder each (`multi.save(dir)` writes `sentiment/` and `topic/`), in oneml's `BOTTLENECK`
// format with AdapterHub's tensor names; a composition is a runtime choice and is not saved.

var saved = java.nio.file.Files.createTempDirectory("multi-task");
multi.save(saved);
try (var files = java.nio.file.Files.walk(saved)) {
    files.filter(java.nio.file.Files::isRegularFile).sorted().forEach(f -> System.out.println(saved.relativize(f)));
}

// ## Takeaways
//
// * Prompt tuning, prefix tuning and bottleneck adapters add inputs or a small extra layer instead of an update to a
//   weight matrix, so there is nothing to fold into the weights: at inference they cost extra tokens (prompt tuning),
//   extra keys and values in every layer (prefix tuning) or an extra small MLP per block (adapters). LoRA, DoRA and IA3
//   merge and then cost nothing.
// * On this 3M-parameter model, in 30 steps, the virtual-token methods learn more slowly than adapters and LoRA (one
//   seed); the literature finds prompt tuning's gap closes only at billions of parameters, and prefix tuning's at a few
//   hundred million with full training.
// * One base with one adapter per task works; naive averaging of two separately trained adapters does not.
// * On a model this small full fine-tuning would be as accurate and fits easily in memory (notebook 02, where it also
//   ran slower per step than every PEFT method, which matters little at a few seconds a run): use PEFT for memory, for
//   many tasks on one base, or for small files.
//
// ## Exercises
//
// 1. Train prompt tuning with `PromptTuningConfig.Init.RANDOM` instead of `SAMPLE_VOCAB`: how does the start change?
// 2. Learning-rate sweep for prefix tuning: 1e-2, 3e-2, 1e-1, 3e-1 for 30 steps. Where does it stop learning, and where
//    does it diverge?
// 3. Use `Compose.average(...).withWeights(1, 3)` and a few weightings: is there one that keeps both tasks?
// 4. The harder `Datasets.facts()` task: compare an adapter and prompt tuning on it with the same budget.

System.out.println("04-prefix-prompt-adapters: done");
/exit
