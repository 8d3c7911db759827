package oneml.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import tech.tablesaw.api.Table;

/**
 * A task's three splits as Tablesaw tables of string columns: {@code prompt} and {@code response},
 * or a single {@code text} column. All three splits have the same columns.
 */
public record TextDataset(String name, Table train, Table validation, Table test) {

    public TextDataset {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(validation, "validation");
        Objects.requireNonNull(test, "test");
    }

    /** The split called "train", "validation" or "test". */
    public Table split(String split) {
        return switch (split) {
            case "train" -> train;
            case "validation" -> validation;
            case "test" -> test;
            default -> throw new IllegalArgumentException(
                    "unknown split '" + split + "'; expected one of " + Datasets.SPLITS);
        };
    }

    /** The column names, the same in every split: [prompt, response] or [text]. */
    public List<String> columns() {
        return train.columnNames();
    }

    public boolean hasPromptResponse() {
        return columns().equals(SplitFormat.PROMPT_RESPONSE.columns());
    }

    /** The rows of a prompt/response split as values, in file order. */
    public List<Example> examples(String split) {
        if (!hasPromptResponse()) {
            throw new IllegalStateException(name + " has columns " + columns() + ", not [prompt, response]");
        }
        Table table = split(split);
        List<Example> out = new ArrayList<>(table.rowCount());
        for (int i = 0; i < table.rowCount(); i++) {
            out.add(new Example(table.getString(i, "prompt"), table.getString(i, "response")));
        }
        return out;
    }

    /** "sentiment: train 1600, validation 200, test 200 rows; columns [prompt, response]; e.g. ..." */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder()
                .append(name).append(": train ").append(train.rowCount())
                .append(", validation ").append(validation.rowCount())
                .append(", test ").append(test.rowCount())
                .append(" rows; columns ").append(columns());
        if (train.rowCount() > 0) {
            s.append("; e.g.");
            for (String column : columns()) {
                s.append(' ').append(column).append("=\"").append(train.getString(0, column)).append('"');
            }
        }
        return s.toString();
    }
}
