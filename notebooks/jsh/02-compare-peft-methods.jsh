// 02-compare-peft-methods.jsh: the flow of notebooks/02-compare-peft-methods.ipynb as a JShell script.
// Run from the project folder: ./oneml shell notebooks/jsh/02-compare-peft-methods.jsh
import oneml.compare.*;
import oneml.viz.*;
import org.knowm.xchart.*;

// # Comparing PEFT methods
//
// One call fine-tunes each method on the same base model, data, budget and seed, and measures what it trains,
// what it costs and how well it does.

var data = Datasets.sentiment();
System.out.println(data);

// ## 1. What runs
//
// Each method gets a fresh copy of the embedded model and its own learning rate: a few virtual tokens or a scaling
// vector need a far larger step than a low-rank update, and full fine-tuning a smaller one.

var compare = Compare.tiny(data).methods("full", "lora", "dora", "qlora", "ia3", "prompt", "prefix", "adapter").steps(40).evalEvery(20).evalLimit(60);
System.out.println(compare);

// ## 2. Run it
//
// Model memory is counted (the model's arrays as it trains); peak memory is the process's resident-set high-water
// mark, reset just before each method's model is loaded. In one JVM a later method can reuse memory an earlier one
// freed, so its peak can read low; `./oneml compare` runs each method in a JVM of its own.

var result = compare.run();
System.out.println(result);

// ## 3. Loss curves, quality and cost

System.out.println(ComparisonCharts.lossCurves(result).getTitle());
System.out.println(ComparisonCharts.qualityVsTrainable(result).getTitle());
System.out.println(ComparisonCharts.trainableParameters(result).getTitle());
System.out.println(ComparisonCharts.peakMemory(result).getTitle());
System.out.println(ComparisonCharts.tokensPerSecond(result).getTitle());

// ## 4. The docs' table, from measured numbers

System.out.println(result.docsTable());

// ## 5. The memory planner
//
// What the same methods would need on real Llama sizes: weights, gradients, optimizer state and activations.

var plan70 = MemoryPlanner.of(ModelShape.llama70b()).batchSize(1).sequenceLength(2048).plan();
System.out.println(plan70.table());
System.out.printf("AdamW state for full fine-tuning of %s: %.0f GB%n", plan70.shape().name(), plan70.estimate("full").optimizer() / 1e9);
System.out.println(ComparisonCharts.memoryPlan(plan70).getTitle());

// The planner against what this run measured on the embedded model (batch 16, sentiment prompts of about 30 tokens).

var planTiny = MemoryPlanner.of(ModelShape.tiny()).batchSize(16).sequenceLength(32).plan(List.of("full", "lora", "ia3", "adapter"));
for (var e : planTiny.estimates()) System.out.printf("%-8s planned %6.1f MB   measured %6.1f MB%n", e.method(), e.total() / 1e6, result.result(e.method()).peakBytes() / 1e6);

// ## 6. Save the report

var report = ComparisonReport.write(result, planTiny, Path.of("out", "compare-notebook"));
System.out.println(report);
System.out.println(Comparison.load(report.getParent()).table().rowCount() + " rows reloaded");
System.out.println("02-compare-peft-methods: done");
/exit
