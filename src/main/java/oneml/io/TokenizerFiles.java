package oneml.io;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
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
        HuggingFaceTokenizer tokenizer = null;
        try {
            tokenizer = HuggingFaceTokenizer.newInstance(file, options);
            // some files load but cannot encode (a WordLevel "unk_token" missing from the vocabulary): find out now
            tokenizer.encode("a probe, 1.");
            return tokenizer;
        } catch (IOException | RuntimeException e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            // the native library's own words (serde's "missing field `vocab` at line 3 column 1") say what is wrong
            String m = e instanceof IOException io ? JsonFiles.ioProblem(io) : e.getMessage();
            m = m == null || m.isBlank() ? "no reason given" : m.lines().findFirst().orElse(m);
            throw new BadFileException(file, "is not a tokenizer the tokenizers library can read ("
                    + (m.length() <= 200 ? m : m.substring(0, 197) + "...")
                    + "); use the tokenizer.json that came with the model", e);
        }
    }

    /**
     * The Java-side checks: bounded size, UTF-8, standard JSON (the native parser is stricter than Gson's default,
     * and the tokenizers library panics, taking the JVM down, on some syntax errors inside a component), finite
     * numbers and well-formed strings for the same reason, and a "model" object.
     */
    static void check(Path file) {
        JsonObject root = JsonFiles.parseObject(JsonFiles.readText(file, "tokenizer file", MAX_BYTES), file, "tokenizer file", true);
        String problem = nativeProblem(root, 0);
        if (problem != null) {
            throw new BadFileException(file, "the tokenizer file " + problem + "; use the tokenizer.json that came with the model");
        }
        if (!root.has("model") || !root.get("model").isJsonObject()) {
            throw new BadFileException(file, "the tokenizer file has no \"model\" object (the vocabulary);"
                    + " is this a tokenizer.json? (tokenizer_config.json and vocab.txt are other files)");
        }
    }

    /** What the native JSON parser would refuse (where it may panic) in a tree Gson accepted, or null. */
    private static String nativeProblem(JsonElement e, int depth) {
        if (depth > 128) { // serde_json's recursion limit
            return "nests objects and arrays more than 128 deep";
        }
        if (e.isJsonObject()) {
            for (var entry : e.getAsJsonObject().entrySet()) {
                String p = badString(entry.getKey());
                p = p != null ? p : nativeProblem(entry.getValue(), depth + 1);
                if (p != null) {
                    return p;
                }
            }
        } else if (e.isJsonArray()) {
            for (JsonElement item : e.getAsJsonArray()) {
                String p = nativeProblem(item, depth + 1);
                if (p != null) {
                    return p;
                }
            }
        } else if (e instanceof JsonPrimitive p && p.isNumber()) {
            String text = p.getAsString();
            if (!Double.isFinite(Double.parseDouble(text))) {
                return "has the number " + (text.length() <= 30 ? text : text.substring(0, 27) + "...") + ", out of range";
            }
        } else if (e instanceof JsonPrimitive p && p.isString()) {
            return badString(p.getAsString());
        }
        return null;
    }

    /** A lone UTF-16 surrogate (written as a \\u escape) is not a character; the native parser rejects it. */
    private static String badString(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return "has a string with half a character (a lone \\u" + String.format("%04x", (int) c) + " escape)";
            }
        }
        return null;
    }
}
