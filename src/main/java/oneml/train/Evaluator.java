package oneml.train;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import oneml.model.CausalLM;
import oneml.model.Engines;
import oneml.model.GenerationConfig;
import oneml.model.Generator;
import oneml.model.TextTokenizer;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/** Validation loss and perplexity, and task quality measured by generating answers. */
public final class Evaluator {
    private Evaluator() {}

    /**
     * Mean loss per supervised token over all examples (batches weighted by their token counts).
     *
     * @throws java.util.concurrent.CancellationException when the thread is interrupted (checked between batches)
     */
    public static double loss(CausalLM model, List<TokenizedExample> examples, int batchSize) {
        Engines.noGradInThisThread();
        double sum = 0;
        long tokens = 0;
        for (Batch batch : Batch.of(examples, batchSize, null)) {
            if (Thread.currentThread().isInterrupted()) {
                // a notebook's stop button: end between batches (a long validation would otherwise run to its end)
                throw new java.util.concurrent.CancellationException("validation interrupted");
            }
            try (NDManager scratch = model.manager().newSubManager()) {
                NDList arrays = batch.toArrays(scratch, model.config().padTokenId());
                double loss = CausalLM.causalLmLoss(model.forward(arrays.get(0)), arrays.get(1)).getFloat();
                int n = batch.supervisedTokens();
                sum += loss * n;
                tokens += n;
            }
        }
        return tokens == 0 ? Double.NaN : sum / tokens;
    }

    /** Result of answering every prompt of a table by greedy generation. */
    public record TaskResult(double accuracy, int correct, int total, Table predictions) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "accuracy %.3f (%d / %d)", accuracy, correct, total);
        }
    }

    /**
     * Generates an answer to each prompt (greedy, at most {@code maxNewTokens}) and compares it with the
     * response after trimming and lower-casing: exact match for generation tasks, accuracy for labels.
     * {@code limit} > 0 scores only the first rows.
     */
    public static TaskResult exactMatch(CausalLM model, TextTokenizer tokenizer, Table data, int maxNewTokens, int limit) {
        if (!data.columnNames().contains("prompt") || !data.columnNames().contains("response")) {
            throw new IllegalArgumentException("task evaluation needs prompt and response columns; '" + data.name() + "' has " + data.columnNames());
        }
        ExampleEncoder encoder = new ExampleEncoder(tokenizer, model.config(), Integer.MAX_VALUE);
        int n = limit > 0 ? Math.min(limit, data.rowCount()) : data.rowCount();
        List<String> prompts = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        List<String> predicted = new ArrayList<>();
        List<Boolean> correct = new ArrayList<>();
        int right = 0;
        for (int i = 0; i < n; i++) {
            String prompt = data.getString(i, "prompt");
            String want = data.getString(i, "response");
            long[] answer = Generator.generate(model, encoder.promptIds(prompt), GenerationConfig.greedy(maxNewTokens));
            String got = tokenizer.decode(answer);
            boolean ok = normalise(got).equals(normalise(want));
            right += ok ? 1 : 0;
            prompts.add(prompt);
            expected.add(want);
            predicted.add(got);
            correct.add(ok);
        }
        Table predictions = Table.create("predictions",
                StringColumn.create("prompt", prompts), StringColumn.create("expected", expected),
                StringColumn.create("predicted", predicted), BooleanColumn.create("correct", correct));
        return new TaskResult(n == 0 ? Double.NaN : (double) right / n, right, n, predictions);
    }

    static String normalise(String s) {
        return s.trim().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
    }
}
