package oneml.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import oneml.data.Datasets;
import oneml.data.TextDataset;
import picocli.CommandLine.Option;

/** --data: a shipped task name, a folder with train/validation/test files, or one file split 80/10/10. */
final class DataOptions {
    @Option(names = "--data", paramLabel = "TASK|DIR", defaultValue = "sentiment",
            description = "shipped task (sentiment, facts, topic), a folder with train/validation/test .jsonl/.csv, or one .jsonl/.csv file"
                    + " (shuffled with seed 42 and split 80/10/10) (default: ${DEFAULT-VALUE})")
    String data;

    TextDataset load() {
        try {
            return Datasets.fromSource(data);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dataset " + data + ": " + e.getMessage(), e);
        }
    }
}
