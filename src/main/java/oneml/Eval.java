package oneml;

import oneml.model.CausalLM;
import oneml.model.TrainableModel;
import oneml.train.Evaluator;
import oneml.train.ExampleEncoder;
import tech.tablesaw.api.Table;

/** Task quality and perplexity: {@code Eval.accuracy(model, data.test())}. */
public final class Eval {
    private Eval() {}

    /** Exact-match accuracy of greedy answers (up to 8 new tokens) to every prompt of the table. */
    public static Evaluator.TaskResult accuracy(TrainableModel model, Table data) {
        return accuracy(model.model(), data, 8, 0);
    }

    public static Evaluator.TaskResult accuracy(CausalLM model, Table data) {
        return accuracy(model, data, 8, 0);
    }

    /** As {@link #accuracy(CausalLM, Table)} with a token budget and a row limit (0: all rows). */
    public static Evaluator.TaskResult accuracy(CausalLM model, Table data, int maxNewTokens, int limit) {
        return Evaluator.exactMatch(model, model.tokenizer(), data, maxNewTokens, limit);
    }

    /** exp(mean token loss) on the table's responses (or text). */
    public static double perplexity(TrainableModel model, Table data) {
        return perplexity(model.model(), data);
    }

    public static double perplexity(CausalLM model, Table data) {
        var examples = new ExampleEncoder(model.tokenizer(), model.config(), Integer.MAX_VALUE).encode(data);
        return Math.exp(Evaluator.loss(model, examples, 16));
    }
}
