// 05-dora-and-beyond.jsh: the flow of notebooks/05-dora-and-beyond.ipynb as a JShell script.
// Run from the project folder: ./oneml shell notebooks/jsh/05-dora-and-beyond.jsh
// (./oneml shell imports oneml.*, oneml.data.*, oneml.model.*, oneml.peft.*, oneml.train.*, tech.tablesaw.api.*;
// the notebook kernel also imports the chart packages, imported here. A chained call stays on one line: jshell ends
// a statement at the first line break where it is complete.)
import oneml.viz.*;
import org.knowm.xchart.*;

// # DoRA, IA3, merging and the PEFT format
//
// Three things that come after a first LoRA run:
//
// 1. **DoRA** (weight-decomposed LoRA): LoRA plus a trainable *magnitude* per output row, `useDora(true)`;
//    **IA3**: no matrices at all, one learned scaling vector per target module.
// 2. **Merging**: folding an adapter into the base weights, so inference costs exactly what the base costs, and
//    undoing it.
// 3. **Saving and reloading** in Hugging Face PEFT's format, which Python's `peft` reads too.

// ## 1. Three adapters
//
// LoRA and DoRA with the same rank and targets, and IA3 with its defaults for a Llama model (`k_proj`, `v_proj` and
// `down_proj`, the last scaled on its input). Each on its own copy of the embedded model.

import java.util.List;
double round(double x, int decimals) {   // for readable tables
    double scale = Math.pow(10, decimals);
    return Math.round(x * scale) / scale;
}
var data = Datasets.sentiment();
var test = data.test().first(100);
var loraConfig = LoRAConfig.builder().r(8).alpha(16).targetModules("q_proj", "v_proj").build();
var doraConfig = loraConfig.toBuilder().useDora(true).build();
var ia3Config = IA3Config.builder().build();
var lora = Peft.apply(Models.tiny(), loraConfig);
var dora = Peft.apply(Models.tiny(), doraConfig);
var ia3 = Peft.apply(Models.tiny(), ia3Config);
var before = Eval.accuracy(lora, test);   // every adapter starts as the identity: this is the base's accuracy
System.out.println(before);

// DoRA writes each adapted weight as `m · (W + s·B·A) / ‖W + s·B·A‖` (row norms): the direction is updated by LoRA, the
// length `m` (one number per output row, initialised to the row norms of `W`) trains separately. That adds one
// parameter per output row. IA3 trains a single vector per module: far fewer parameters than either.

var names = List.of("LoRA r=8", "DoRA r=8", "IA3");
var peftModels = List.of(lora, dora, ia3);
System.out.println(Table.create("trainable parameters",
        StringColumn.create("method", names),
        LongColumn.create("trainable params", peftModels.stream().mapToLong(m -> m.trainableParameterCount()).toArray()),
        DoubleColumn.create("trainable %", peftModels.stream().mapToDouble(m -> round(100.0 * m.trainableParameterCount() / m.allParameterCount(), 3)).toArray()),
        StringColumn.create("arrays (layer 0)", peftModels.stream().map(m -> String.join(", ",
                m.trainableParameters().keySet().stream().filter(k -> k.contains(".0.")).map(k -> k.replaceAll("^.*layers\\.0\\.", "")).sorted().toList())).toList())));

// ## 2. Train each for 30 steps
//
// LoRA and DoRA with the same learning rate; IA3's vectors start at 1 and move slowly, so it gets a
// much larger one (at 3e-2 it is still at chance after thirty steps).

var loraRun = Train.of(lora, data).steps(30).learningRate(5e-3).evalEvery(15).seed(0).run();
var doraRun = Train.of(dora, data).steps(30).learningRate(5e-3).evalEvery(15).seed(0).run();
var ia3Run = Train.of(ia3, data).steps(30).learningRate(1e-1).evalEvery(15).seed(0).run();
var runs = List.of(loraRun, doraRun, ia3Run);
System.out.println(doraRun);

var curves = new XYChartBuilder().width(640).height(360).title("LoRA vs DoRA vs IA3 on sentiment: training loss").xAxisTitle("step").yAxisTitle("cross-entropy loss").build();
curves.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
curves.getStyler().setMarkerSize(3);
for (int i = 0; i < runs.size(); i++) {
    var h = runs.get(i).history();
    curves.addSeries(names.get(i), h.doubleColumn("step").asDoubleArray(), h.doubleColumn("loss").asDoubleArray());
}
var chart1__ = curves;
System.out.println("[chart] " + chart1__.getTitle());

var accuracy = new java.util.ArrayList<Double>();
for (var m : peftModels) {
    accuracy.add(Eval.accuracy(m, test).accuracy());
}
System.out.println(Table.create("after 30 steps (first 100 test reviews)",
        StringColumn.create("method", names),
        DoubleColumn.create("accuracy before", before.accuracy(), before.accuracy(), before.accuracy()),
        DoubleColumn.create("accuracy after", accuracy),
        DoubleColumn.create("final train loss", runs.stream().mapToDouble(r -> round(r.finalTrainLoss(), 4)).toArray()),
        DoubleColumn.create("seconds", runs.stream().mapToDouble(r -> round(r.seconds(), 1)).toArray())));

// DoRA costs a little more per step than LoRA (it recomputes the row norms of the adapted weight in every forward
// pass); IA3 is the cheapest.
//
// ## 3. Merge and unmerge
//
// `merge()` adds the adapter's update into the base weights (`W + s·B·A` for LoRA, `m · (W + s·B·A)/‖·‖` for DoRA,
// `W · diag(l)` for IA3) and switches the adapter's own computation off; `unmerge()` subtracts it again. The outputs
// must not change, so we compare the logits of a test prompt: adapter beside the base, merged, and unmerged again.
// The helpers run one forward pass in a scratch memory manager and compare float arrays.

float[] logits(PeftModel m, String text) {
    var lm = m.model();
    try (var scratch = lm.manager().newSubManager()) {
        var ids = scratch.create(new long[][] {lm.tokenizer().encode(text)});
        return lm.forward(ids).toFloatArray();
    }
}

double maxAbsDiff(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
        max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
}

String text = test.getString(0, "prompt");
System.out.println(text);

var mergeCheck = Table.create("merged vs unmerged: max |logit difference| on one prompt",
        StringColumn.create("method"), DoubleColumn.create("merged vs adapter"), DoubleColumn.create("unmerged vs adapter"),
        BooleanColumn.create("within 1e-4"));
for (int i = 0; i < peftModels.size(); i++) {
    var m = peftModels.get(i);
    float[] unmerged = logits(m, text);
    m.merge();
    float[] merged = logits(m, text);
    m.unmerge();
    float[] again = logits(m, text);
    mergeCheck.stringColumn("method").append(names.get(i));
    mergeCheck.doubleColumn("merged vs adapter").append(maxAbsDiff(unmerged, merged));
    mergeCheck.doubleColumn("unmerged vs adapter").append(maxAbsDiff(unmerged, again));
    mergeCheck.booleanColumn("within 1e-4").append(maxAbsDiff(unmerged, merged) < 1e-4 && maxAbsDiff(unmerged, again) < 1e-4);
}
System.out.println(mergeCheck);

// The differences are float32 rounding (the sum `W + ΔW` is rounded once instead of the two products separately).
//
// ## 4. Save in PEFT format and reload
//
// `save` writes `adapter_config.json` (PEFT's field names: `r`, `lora_alpha`, `target_modules`, `use_dora`, ...)
// and `adapter_model.safetensors` (PEFT's tensor keys). `Peft.load` reads such a folder onto a fresh base.

var dir = java.nio.file.Files.createTempDirectory("sentiment-dora");
dora.save(dir);
try (var files = java.nio.file.Files.list(dir)) {
    files.sorted().forEach(f -> System.out.println(f.getFileName() + "  " + f.toFile().length() + " bytes"));
}
System.out.println(java.nio.file.Files.readString(dir.resolve("adapter_config.json")));

var reloaded = Peft.load(Models.tiny(), dir);
double reloadDiff = maxAbsDiff(logits(dora, text), logits(reloaded, text));
var reloadedAccuracy = Eval.accuracy(reloaded, test);
System.out.println(Table.create("DoRA adapter: trained model vs reloaded from disk",
        StringColumn.create("check", "max |logit difference|", "accuracy, trained", "accuracy, reloaded"),
        DoubleColumn.create("value", reloadDiff, accuracy.get(1), reloadedAccuracy.accuracy())));

// The logits agree to float32 rounding, not bit for bit: the merge and unmerge of section 3 left rounding in `dora`'s
// base weights, while `reloaded` sits on a fresh base. The adapter's own arrays were saved and read back exactly.
//
// ## 5. Merge and unload
//
// `mergeAndUnload()` merges the active adapter, removes every adapter, and returns the plain base model, now
// fine-tuned: no adapter code runs any more, and `Models.save` can write it as a regular Hugging Face checkpoint.

float[] withAdapter = logits(reloaded, text);
CausalLM merged = reloaded.mergeAndUnload();
float[] plain;
try (var scratch = merged.manager().newSubManager()) {
    plain = merged.forward(scratch.create(new long[][] {merged.tokenizer().encode(text)})).toFloatArray();
}
System.out.println("max |logit difference| after mergeAndUnload: " + maxAbsDiff(withAdapter, plain));
System.out.println(text + " -> " + merged.generate(text, 2));
System.out.println(Eval.accuracy(merged, test));

// Where to go next: `rankPattern` / `alphaPattern` for per-module ranks, `useRslora(true)` for rank-stabilised scaling,
// `modulesToSave("lm_head")` to train a whole module beside the adapter, and `./oneml bench` to compare LoRA and DoRA
// throughput on a larger model.

System.out.println("05-dora-and-beyond: done");
/exit
