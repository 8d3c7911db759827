package oneml.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import tech.tablesaw.api.Table;

/**
 * Loads task datasets (from any folder, or the shipped defaults) and the shipped tokenizer.
 *
 * <p>A dataset folder holds {@code train}, {@code validation} and {@code test} files, each either
 * JSON Lines ({@code .jsonl}) or CSV with a header ({@code .csv}); if both exist, {@code .jsonl}
 * wins. Each file must provide {@code prompt} and {@code response} columns, or a {@code text}
 * column; only those columns are kept.
 */
public final class Datasets {

    public static final List<String> SPLITS = List.of("train", "validation", "test");

    /** The tasks shipped under {@code datasets/}. */
    public static final List<String> TASKS = List.of(SentimentTask.NAME, FactsTask.NAME, TopicTask.NAME);

    /**
     * Options for DJL's tokenizer: no special tokens added implicitly, and no truncation or padding,
     * which DJL would otherwise apply at 512 tokens without a word.
     */
    public static final Map<String, String> TOKENIZER_OPTIONS =
            Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");

    private Datasets() {}

    /** The shipped sentiment task: review → "positive" / "negative". */
    public static TextDataset sentiment() throws IOException {
        return shipped(SentimentTask.NAME);
    }

    /** The shipped facts task: question about a person → one word, scored by exact match. */
    public static TextDataset facts() throws IOException {
        return shipped(FactsTask.NAME);
    }

    /** The shipped topic task: short text → "food" / "travel" / "work" / "pets". */
    public static TextDataset topic() throws IOException {
        return shipped(TopicTask.NAME);
    }

    /**
     * A dataset as the command line's {@code --data} names it: a folder with train/validation/test files, one .jsonl or
     * .csv file (shuffled with seed 42 and split 80/10/10), or a shipped task's name.
     */
    public static TextDataset fromSource(String source) throws IOException {
        Path p = Path.of(source);
        if (Files.isDirectory(p)) {
            return load(p);
        }
        if (Files.isRegularFile(p)) {
            return splitFile(p, 42);
        }
        return shipped(source);
    }

    /** A shipped task by name, one of {@link #TASKS}. */
    public static TextDataset shipped(String task) throws IOException {
        if (!TASKS.contains(task)) {
            throw new IllegalArgumentException("unknown task '" + task + "'; shipped tasks are " + TASKS);
        }
        return load(DatasetHome.find(task));
    }

    /** The shipped word-level tokenizer, {@code datasets/tokenizer/tokenizer.json}. */
    public static Path tokenizerFile() {
        return DatasetHome.find("tokenizer").resolve("tokenizer.json");
    }

    /** The shipped pretraining corpus, one document per line; see datasets/README.md. */
    public static Path corpusFile() {
        return DatasetHome.find("pretrain").resolve("corpus.txt");
    }

    /** The shipped tokenizer, opened with {@link #TOKENIZER_OPTIONS}. The caller closes it. */
    public static HuggingFaceTokenizer tokenizer() throws IOException {
        return openTokenizer(tokenizerFile());
    }

    /**
     * A {@code tokenizer.json} (or a folder holding one), opened with {@link #TOKENIZER_OPTIONS}; a damaged or wrong
     * file is an {@link oneml.io.BadFileException} naming it.
     */
    public static HuggingFaceTokenizer openTokenizer(Path path) throws IOException {
        return oneml.io.TokenizerFiles.open(path, TOKENIZER_OPTIONS);
    }

    /** Loads the three splits of a dataset folder; the dataset is named after the folder. */
    public static TextDataset load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + ": not a folder; expected one holding "
                    + "train, validation and test files (.jsonl or .csv)");
        }
        List<Table> splits = new ArrayList<>();
        for (String split : SPLITS) {
            splits.add(loadSplit(splitFile(dir, split)));
        }
        List<String> columns = splits.get(0).columnNames();
        for (int i = 1; i < splits.size(); i++) {
            if (!splits.get(i).columnNames().equals(columns)) {
                throw new IllegalArgumentException(dir + ": " + SPLITS.get(i) + " has columns "
                        + splits.get(i).columnNames() + " but train has " + columns);
            }
        }
        return new TextDataset(dir.toAbsolutePath().normalize().getFileName().toString(),
                splits.get(0), splits.get(1), splits.get(2));
    }

    /**
     * One file ({@code .jsonl} or {@code .csv}) split into train, validation and test: the rows are shuffled with
     * {@code seed}, then 80% train, 10% validation, 10% test (at least one row each). The dataset is named after the file.
     */
    public static TextDataset splitFile(Path file, long seed) throws IOException {
        Table all = loadSplit(file);
        int n = all.rowCount();
        if (n < 3) {
            throw new IllegalArgumentException(file + ": " + n + " rows; splitting into train, validation and test needs at least 3");
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        java.util.Collections.shuffle(order, new java.util.Random(seed));
        int held = Math.max(1, n / 10);
        int[] test = order.subList(0, held).stream().mapToInt(Integer::intValue).toArray();
        int[] validation = order.subList(held, 2 * held).stream().mapToInt(Integer::intValue).toArray();
        int[] train = order.subList(2 * held, n).stream().mapToInt(Integer::intValue).toArray();
        String name = file.getFileName().toString().replaceFirst("\\.(jsonl|csv)$", "");
        return new TextDataset(name, all.rows(train), all.rows(validation), all.rows(test));
    }

    /** Loads one split file, {@code .jsonl} or {@code .csv}, into a table of string columns. */
    public static Table loadSplit(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": no such file");
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".jsonl")) {
            return JsonLines.read(file);
        }
        if (name.endsWith(".csv")) {
            return CsvSplit.read(file);
        }
        throw new IllegalArgumentException(file + ": unsupported file type; expected .jsonl or .csv");
    }

    private static Path splitFile(Path dir, String split) throws IOException {
        for (String extension : List.of(".jsonl", ".csv")) {
            Path file = dir.resolve(split + extension);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        List<String> present;
        try (Stream<Path> files = Files.list(dir)) {
            present = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        throw new IllegalArgumentException(dir + ": missing " + split + ".jsonl or " + split
                + ".csv; the folder has " + present);
    }
}
