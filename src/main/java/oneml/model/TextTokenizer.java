package oneml.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import oneml.io.TokenizerFiles;

/**
 * A Hugging Face tokenizer.json through DJL's native tokenizers, configured the way fine-tuning needs it:
 * no special tokens added behind the caller's back and no silent truncation (DJL cuts at 512 by default).
 */
public final class TextTokenizer implements AutoCloseable {
    /** No special tokens added behind the caller's back, no truncation at DJL's default of 512, no padding. */
    private static final Map<String, String> OPTIONS = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");

    private final HuggingFaceTokenizer tokenizer;
    private final Path file;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, Path file) {
        this.tokenizer = tokenizer;
        this.file = file;
    }

    /** Loads {@code tokenizer.json} from a model folder (or the file itself). */
    public static TextTokenizer load(Path dirOrFile) {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("tokenizer.json") : dirOrFile;
        Engines.rootManager(); // the tokenizers library reads the same offline settings
        return new TextTokenizer(TokenizerFiles.open(file, OPTIONS), file);
    }

    public long[] encode(String text) {
        return tokenizer.encode(text, false, false).getIds();
    }

    public String decode(long[] ids) {
        return tokenizer.decode(ids, true).trim();
    }

    public String[] tokens(String text) {
        return tokenizer.encode(text, false, false).getTokens();
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    @Override
    public String toString() {
        return "TextTokenizer(" + file + ")";
    }
}
