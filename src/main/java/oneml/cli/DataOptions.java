package oneml.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
            Path p = Path.of(data);
            if (Files.isDirectory(p)) {
                return Datasets.load(p);
            }
            if (Files.isRegularFile(p)) {
                return Datasets.splitFile(p, 42);
            }
            return Datasets.shipped(data);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dataset " + data + ": " + e.getMessage(), e);
        }
    }
}
