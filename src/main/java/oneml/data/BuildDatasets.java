package oneml.data;

import oneml.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Regenerates everything under {@code datasets/} from a seed: the three tasks, the pretraining
 * corpus, the tokenizer and the README. The same seed gives byte-identical files.
 *
 * <pre>java -cp target/classes:$(cat cp.txt) oneml.data.BuildDatasets --seed 42 --out datasets</pre>
 */
public final class BuildDatasets {

    /** About 2.8 MB and 610k tokens: small enough to ship, big enough to pretrain on for epochs. */
    static final int DEFAULT_CORPUS_DOCS = 35_000;

    /**
     * Documents scanned for the vocabulary, at least. Every template and word shows up within a few
     * thousand documents; the margin makes sure a larger corpus never meets an unknown word.
     */
    static final int VOCABULARY_SAMPLE_DOCS = 100_000;

    private BuildDatasets() {}

    public static void main(String[] args) throws IOException {
        long seed = SyntheticWorld.DEFAULT_SEED;
        Path out = Path.of("datasets");
        int corpusDocs = DEFAULT_CORPUS_DOCS;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seed" -> seed = Long.parseLong(value(args, ++i));
                case "--out" -> out = Path.of(value(args, ++i));
                case "--corpus-docs" -> corpusDocs = Integer.parseInt(value(args, ++i));
                case "--help", "-h" -> {
                    System.out.println(usage());
                    return;
                }
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'\n" + usage());
            }
        }
        Summary summary = build(seed, out, corpusDocs);
        System.out.println(summary);
    }

    /** What was written, for the README and the console. */
    record Summary(long seed, List<GeneratedTask> tasks, int vocabularySize, int corpusDocs, long corpusTokens) {
        @Override
        public String toString() {
            StringBuilder s = new StringBuilder("seed " + seed + "\n");
            for (GeneratedTask t : tasks) {
                s.append(String.format(Locale.ROOT, "%-10s train %d, validation %d, test %d%n",
                        t.name(), t.train().size(), t.validation().size(), t.test().size()));
            }
            s.append("vocabulary ").append(vocabularySize).append(" tokens (4 special)\n");
            s.append("corpus     ").append(corpusDocs).append(" documents, ").append(corpusTokens).append(" tokens");
            return s.toString();
        }
    }

    static Summary build(long seed, Path out, int corpusDocs) throws IOException {
        SyntheticWorld world = new SyntheticWorld(seed);
        List<GeneratedTask> tasks = List.of(
                SentimentTask.generate(world), FactsTask.generate(world), TopicTask.generate(world));
        for (GeneratedTask task : tasks) {
            task.writeTo(out);
        }
        long corpusTokens = world.writeCorpus(out.resolve("pretrain").resolve("corpus.txt"), corpusDocs);

        WordTokenizerBuilder tokenizer = new WordTokenizerBuilder();
        world.documents().limit(Math.max(corpusDocs, VOCABULARY_SAMPLE_DOCS)).forEach(tokenizer::addText);
        for (GeneratedTask task : tasks) {
            for (List<Example> split : List.of(task.train(), task.validation(), task.test())) {
                for (Example e : split) {
                    tokenizer.addText(e.prompt()).addText(e.response());
                }
            }
        }
        tokenizer.writeTo(out.resolve("tokenizer"));

        Summary summary = new Summary(seed, tasks, tokenizer.vocabulary().size(), corpusDocs, corpusTokens);
        AtomicFiles.writeString(out.resolve("README.md"), DatasetReadme.render(summary));
        return summary;
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value\n" + usage());
        }
        return args[i];
    }

    private static String usage() {
        return "usage: oneml.data.BuildDatasets [--seed N] [--out DIR] [--corpus-docs N]\n"
                + "  --seed N         random seed (default " + SyntheticWorld.DEFAULT_SEED + ")\n"
                + "  --out DIR        output folder (default datasets)\n"
                + "  --corpus-docs N  documents in pretrain/corpus.txt (default " + DEFAULT_CORPUS_DOCS + ")";
    }
}
