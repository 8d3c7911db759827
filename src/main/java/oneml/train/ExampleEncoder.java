package oneml.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import oneml.model.CausalLM;
import oneml.model.ModelConfig;
import oneml.model.TextTokenizer;
import tech.tablesaw.api.Table;

/**
 * Turns table rows into token sequences. A {@code prompt}/{@code response} table becomes
 * [bos] prompt response [eos] with the prompt (and bos) masked out of the loss, so the model learns to
 * answer rather than to repeat questions; a {@code text} table becomes [bos] text [eos], all supervised.
 */
public final class ExampleEncoder {
    private final TextTokenizer tokenizer;
    private final ModelConfig config;
    private final int maxLength;

    public ExampleEncoder(TextTokenizer tokenizer, ModelConfig config, int maxLength) {
        this.tokenizer = tokenizer;
        this.config = config;
        this.maxLength = maxLength;
    }

    public List<TokenizedExample> encode(Table table) {
        List<String> columns = table.columnNames();
        List<TokenizedExample> out = new ArrayList<>(table.rowCount());
        if (columns.contains("prompt") && columns.contains("response")) {
            for (int i = 0; i < table.rowCount(); i++) {
                out.add(encodePair(table.getString(i, "prompt"), table.getString(i, "response"), i));
            }
        } else if (columns.contains("text")) {
            for (int i = 0; i < table.rowCount(); i++) {
                out.add(encodeText(table.getString(i, "text"), i));
            }
        } else {
            throw new IllegalArgumentException("table '" + table.name() + "' needs columns prompt and response, or text; it has " + columns);
        }
        return out;
    }

    /** The ids a generation for this prompt starts from: [bos] prompt. */
    public long[] promptIds(String prompt) {
        return concat(bos(), tokenizer.encode(prompt));
    }

    TokenizedExample encodePair(String prompt, String response, int row) {
        long[] promptIds = promptIds(prompt);
        long[] full = concat(bos(), tokenizer.encode(prompt + " " + response));
        long[] answer;
        if (startsWith(full, promptIds)) {
            answer = Arrays.copyOfRange(full, promptIds.length, full.length);
        } else { // a tokenizer that merges across the boundary: encode the answer on its own
            answer = tokenizer.encode(response);
        }
        long[] ids = concat(concat(promptIds, answer), eos());
        check(ids.length, row);
        long[] labels = ids.clone();
        Arrays.fill(labels, 0, promptIds.length, CausalLM.IGNORE);
        return new TokenizedExample(ids, labels);
    }

    TokenizedExample encodeText(String text, int row) {
        long[] ids = concat(concat(bos(), tokenizer.encode(text)), eos());
        check(ids.length, row);
        return new TokenizedExample(ids, ids.clone());
    }

    /** The BOS token, or nothing for a config without one (Qwen2's default). */
    private long[] bos() {
        return config.bosTokenId() < 0 ? new long[0] : new long[] {config.bosTokenId()};
    }

    /** The EOS token that ends each example, or nothing for a config without one. */
    private long[] eos() {
        return config.eosTokenId() < 0 ? new long[0] : new long[] {config.eosTokenId()};
    }

    private void check(int length, int row) {
        if (length > maxLength) {
            throw new IllegalArgumentException("row " + row + " is " + length + " tokens, over the maximum length " + maxLength
                    + "; raise maxLength or shorten the data");
        }
    }

    private static boolean startsWith(long[] a, long[] prefix) {
        return a.length >= prefix.length && Arrays.equals(Arrays.copyOf(a, prefix.length), prefix);
    }

    static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
