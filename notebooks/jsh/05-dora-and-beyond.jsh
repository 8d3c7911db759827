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
// 1. **DoRA** (weight-decomposed LoRA, Liu et al., 2024): LoRA plus a trainable *magnitude* per output row,
//    `useDora(true)`; **IA3** (Liu et al., 2022): no matrices at all, one learned scaling vector per target module.
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
// LoRA and DoRA with the same learning rate; IA3's vectors start at 1 (the identity) and a step of the usual size
// moves them little, so it gets a much larger one (1e-1). Exercise 2 asks what happens at a smaller one.

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

// All three reach 0.92 accuracy on the first 100 test reviews (LoRA, DoRA, IA3; one seed, 30 steps, learning
// rates not tuned: read equal figures as "all learned the format and the labels", not as a ranking). "accuracy before"
// is 0 because the untrained model does not answer with a label word at all (an exact-match score measures the
// answer format first). The final training losses differ more (0.136 LoRA, 0.1276 DoRA, 0.2174
// IA3): accuracy only asks whether the right label word comes out on top, the loss also asks how sure the model is of it.
// On the loss chart IA3 drops fastest over the first ten steps, LoRA and DoRA track each other closely, and from about
// step 12 the three curves lie together near the bottom.
//
// Speed: DoRA does strictly more work per step than LoRA (it recomputes the row norms of the adapted weight in every
// forward pass), and IA3 the least (an element-wise scale, no matrices). The table's seconds do not show the first of
// these: LoRA took 3.3 s, DoRA 2.9 s and IA3 2.8 s. LoRA trained first in this kernel, so it most
// likely paid the JVM's one-off first-training cost (compiled code, thread pools), and the seconds include the two
// validations. Timings worth comparing come from the median step after a warm-up
// (`TrainingRun.steadyTokensPerSecond()`), and even those, from single short runs on a shared 2-core machine, are
// noisy: `./oneml bench` (repeated rounds, at three model sizes) is the place to measure speed.
//
// ## 3. Merge and unmerge
//
// `merge()` adds the adapter's update into the base weights and switches the adapter's own computation off;
// `unmerge()` subtracts it again. For LoRA the merged weight is `W + s·B·A`, for DoRA `m · (W + s·B·A)/‖·‖`. For IA3
// it depends on where the vector scales: on `k_proj` and `v_proj` it scales the outputs, `y = l ⊙ (W·x)`, so the merged
// weight is `diag(l) · W` (rows scaled); on `down_proj` it scales the input (the MLP's inner activation),
// `y = W·(l ⊙ x)`, so the merged weight is `W · diag(l)` (columns scaled). The outputs must not change, so we compare
// the logits of a test prompt: adapter beside the base, merged, and unmerged again. The helpers run one forward pass in
// a scratch memory manager (`newSubManager()`: native arrays created inside it are freed when the `try` block closes it)
// and compare float arrays.

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

// The differences are float32 rounding: merged, the model computes `(W + ΔW)·x` from a sum already rounded to float32,
// where the adapter beside the base computes `W·x + ΔW·x`; and unmerging subtracts `ΔW` from that rounded sum, so `W`
// comes back to within rounding, not bit for bit.
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

// The merged model computes what the adapter did (the logits differ by float32 rounding only, printed above), so
// it gives the same answers. On this positive review ("not flimsy at all . it was solid") the merged model answers
// `negative`. The answer is wrong, and the adapter gave it before merging too (same logits): merging preserves the model's mistakes as exactly as its successes. This
// review ("not flimsy at all") is a negation, the kind of example a model that has learned word-level cues ("flimsy")
// can get wrong; notebook 01's LoRA adapter and notebook 03's QLoRA adapter answered it correctly, this DoRA adapter did not, and one
// review says nothing about which method handles negation better. Its accuracy is 0.920 (92 of 100),
// as the adapter's was.
//
// ## Takeaways
//
// * DoRA adds 30208 − 28672 = 1,536 parameters to LoRA (one magnitude per output row of
//   `q_proj` and `v_proj`); IA3 trains 3776. At 30 steps on this task the three reach the same accuracy (one seed);
//   DoRA's advantage in its paper is on 7B-scale models and harder tasks, which this notebook does not test.
// * LoRA, DoRA and IA3 merge: after `merge()` or `mergeAndUnload()` inference costs exactly what the base costs.
//   Prompt tuning, prefix tuning and bottleneck adapters do not merge: they cost extra tokens, extra keys and values
//   in every layer, or an extra small MLP per block at every inference.
// * Saving writes PEFT's format; a reload is exact to float32 rounding, not bit for bit (section 4).
//
// ## Exercises
//
// 1. Train LoRA and DoRA with three seeds each (`.seed(0)`, `.seed(1)`, `.seed(2)`) and report the mean and range of the
//    accuracy: is there a difference larger than the spread?
// 2. Train IA3 at 3e-2 and at 3e-1 for 30 steps: what does the accuracy say, and what does the first answer look like?
// 3. Merge the IA3 adapter and check by hand, on one `k_proj` and the `down_proj` of layer 0, that the merged weight is
//    `diag(l)·W` and `W·diag(l)` respectively.
// 4. Save the LoRA adapter, load it onto a 4-bit base (`Peft.load(base, dir, QuantConfig.qlora())`) and compare its
//    accuracy with the float32 base's: how much does moving an adapter between bases cost?
//
// Where to go next: `rankPattern` / `alphaPattern` for per-module ranks, `useRslora(true)` for rank-stabilised scaling,
// `modulesToSave("lm_head")` to train a whole module beside the adapter, and `./oneml bench` to compare LoRA and DoRA
// throughput on a larger model.

System.out.println("05-dora-and-beyond: done");
/exit
