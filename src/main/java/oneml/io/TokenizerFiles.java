package oneml.io;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Opens a Hugging Face {@code tokenizer.json} with DJL's native tokenizers, checking first in Java what the file
 * must be (a bounded UTF-8 JSON object with a "model"), so a damaged or wrong file is a {@link BadFileException}
 * naming it rather than whatever the native library makes of it.
 */
public final class TokenizerFiles {
    /** Real tokenizer.json files are up to tens of megabytes (large multilingual vocabularies). */
    static final long MAX_BYTES = 256L * 1024 * 1024;

    private TokenizerFiles() {}

    /** {@code path} is a tokenizer.json or a folder holding one; {@code options} are DJL's (addSpecialTokens, truncation, ...). */
    public static HuggingFaceTokenizer open(Path path, Map<String, String> options) {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new BadFileException(file, "tokenizer.json not found; a model folder needs one to turn text into tokens");
        }
        check(file);
        try {
            return HuggingFaceTokenizer.newInstance(file, options);
        } catch (IOException | RuntimeException e) {
            // the native library's own words (serde's "missing field `vocab` at line 3 column 1") say what is wrong
            String m = e instanceof IOException io ? JsonFiles.ioProblem(io) : e.getMessage();
            throw new BadFileException(file, "is not a tokenizer the tokenizers library can read ("
                    + (m == null || m.isBlank() ? "no reason given" : m.lines().findFirst().orElse(m))
                    + "); use the tokenizer.json that came with the model", e);
        }
    }

    /** The Java-side checks: bounded size, UTF-8, a JSON object with a "model" object naming its type. */
    static void check(Path file) {
        JsonObject root = JsonFiles.readObject(file, "tokenizer file", MAX_BYTES);
        if (!root.has("model") || !root.get("model").isJsonObject()) {
            throw new BadFileException(file, "the tokenizer file has no \"model\" object (the vocabulary);"
                    + " is this a tokenizer.json? (tokenizer_config.json and vocab.txt are other files)");
        }
    }
}
