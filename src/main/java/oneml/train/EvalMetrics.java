package oneml.train;

/** One validation: mean token loss on the validation set and its perplexity. */
public record EvalMetrics(int step, double loss, double perplexity, boolean best) {}
