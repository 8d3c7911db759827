package oneml.train;

/** One training sequence: token ids and the labels the loss compares against (-100 where ignored). */
public record TokenizedExample(long[] ids, long[] labels) {
    public TokenizedExample {
        if (ids.length != labels.length) {
            throw new IllegalArgumentException("ids and labels differ in length: " + ids.length + " vs " + labels.length);
        }
    }

    public int length() {
        return ids.length;
    }

    /** Positions the loss scores: labels after the first (nothing predicts position 0) that are not ignored. */
    public int supervisedTokens() {
        int n = 0;
        for (int i = 1; i < labels.length; i++) {
            if (labels[i] != oneml.model.CausalLM.IGNORE) {
                n++;
            }
        }
        return n;
    }
}
