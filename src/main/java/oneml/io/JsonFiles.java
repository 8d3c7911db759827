package oneml.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the JSON files users hand to oneml (config.json, adapter_config.json, tokenizer.json, shard indexes,
 * safetensors headers) so that every failure is a {@link BadFileException} in the user's terms: which file,
 * what is wrong with it, where, and what to do. Gson's own messages name its classes and suggest a lenient
 * reader with a link; none of that reaches the user.
 */
public final class JsonFiles {
    /** Cap for small JSON files (configs, indexes): real ones are kilobytes. */
    public static final long SMALL_FILE_BYTES = 16L * 1024 * 1024;

    private static final Pattern WHERE = Pattern.compile("line (\\d+) column (\\d+)");

    private JsonFiles() {}

    /** Reads {@code file} (at most {@code maxBytes}) as a JSON object; {@code what} names it in messages ("model config"). */
    public static JsonObject readObject(Path file, String what, long maxBytes) {
        return parseObject(readText(file, what, maxBytes), file, what);
    }

    /** Reads {@code file} as UTF-8 text of at most {@code maxBytes}, checked before anything is allocated. */
    public static String readText(Path file, String what, long maxBytes) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > maxBytes) {
                throw new BadFileException(file, "is " + size + " bytes, too large for a " + what + " (at most " + maxBytes
                        + "); is this the right file?");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new BadFileException(file, "cannot read the " + what + " (" + ioProblem(e) + ")", e);
        }
        return utf8(bytes, file, what);
    }

    /** Decodes UTF-8 strictly: a file that is not text says so instead of turning into replacement characters. */
    public static String utf8(byte[] bytes, Path file, String what) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new BadFileException(file, "the " + what + " is not UTF-8 text (byte " + firstBadByte(bytes)
                    + " is not valid UTF-8); is this the right file, or is it damaged?");
        }
    }

    /** Parses {@code text} (the content of {@code file}) as a JSON object; Gson's lenient extensions are accepted. */
    public static JsonObject parseObject(String text, Path file, String what) {
        return parseObject(text, file, what, false);
    }

    /**
     * Parses {@code text} as a JSON object; {@code strict} accepts standard JSON only (no NaN, no single quotes, no
     * unquoted names, no comments), for files another parser reads after this one.
     */
    public static JsonObject parseObject(String text, Path file, String what, boolean strict) {
        JsonElement parsed;
        try {
            if (strict) {
                JsonReader reader = new JsonReader(new StringReader(text));
                reader.setStrictness(Strictness.STRICT);
                parsed = JsonParser.parseReader(reader);
                if (reader.peek() != JsonToken.END_DOCUMENT) {
                    throw new JsonParseException("more than one JSON value");
                }
            } else {
                parsed = JsonParser.parseString(text);
            }
        } catch (JsonParseException | IOException | StackOverflowError e) {
            throw new BadFileException(file, "the " + what + " is not valid JSON: " + describe(e)
                    + "; fix the file or replace it with an intact copy");
        }
        if (!parsed.isJsonObject()) {
            throw new BadFileException(file, "the " + what + " must be a JSON object ({...}), but it is "
                    + (parsed.isJsonNull() ? "empty" : parsed.isJsonArray() ? "an array" : "a single value " + JsonFields.show(parsed)));
        }
        return parsed.getAsJsonObject();
    }

    /**
     * What a Gson parse failure means, in words, with the line and column: "the text ends early at line 1,
     * column 20 (is the file truncated?)". Never Gson's own text, which names its classes and links its guide.
     */
    public static String describe(Throwable parseFailure) {
        if (parseFailure instanceof StackOverflowError) {
            return "objects and arrays nest too deeply";
        }
        StringBuilder all = new StringBuilder();
        for (Throwable t = parseFailure; t != null && all.length() < 2000; t = t.getCause()) {
            all.append(t.getClass().getSimpleName()).append(' ').append(t.getMessage()).append('\n');
        }
        String m = all.toString();
        String what;
        if (m.contains("EOFException") || m.contains("End of input")) {
            what = "the text ends too early";
        } else if (m.contains("Unterminated object")) {
            what = "an object is not closed (a missing ',' or '}')";
        } else if (m.contains("Unterminated array")) {
            what = "an array is not closed (a missing ',' or ']')";
        } else if (m.contains("Unterminated string") || m.contains("Unterminated escape")) {
            what = "a string is not closed (a missing '\"')";
        } else if (m.contains("Expected ':'")) {
            what = "a name is not followed by ':'";
        } else if (m.contains("Expected name")) {
            what = "a name in double quotes was expected";
        } else if (m.contains("Expected value") || m.contains("Unexpected value")) {
            what = "a value was expected";
        } else if (m.contains("Nesting limit")) {
            what = "objects and arrays nest too deeply";
        } else if (m.contains("NaN and infinities")) {
            what = "NaN and Infinity are not JSON numbers";
        } else if (m.contains("escape sequence")) {
            what = "a string has an invalid backslash escape";
        } else if (m.contains("entire document") || m.contains("more than one JSON value")) {
            what = "there is more text after the JSON value";
        } else if (m.contains("LENIENT") || m.contains("malformed JSON")) {
            what = "this is not standard JSON (names and strings need double quotes; no comments, no trailing commas)";
        } else if (m.contains("NumberFormatException")) {
            what = "a number is malformed";
        } else {
            what = "the JSON is malformed";
        }
        Matcher at = WHERE.matcher(m);
        return at.find() ? what + " at line " + at.group(1) + ", column " + at.group(2) : what;
    }

    /** An I/O failure in words ("no such file", "permission denied"), without the exception's class. */
    public static String ioProblem(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        String m = e instanceof java.nio.file.FileSystemException fs ? fs.getReason() : e.getMessage();
        if (m == null || m.isBlank()) {
            return "read error";
        }
        return m.toLowerCase(Locale.ROOT).contains("is a directory") ? "it is a folder, not a file" : m;
    }

    private static int firstBadByte(byte[] bytes) {
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        var out = java.nio.CharBuffer.allocate(Math.max(16, bytes.length));
        var result = decoder.decode(in, out, true);
        return result.isError() ? in.position() : bytes.length;
    }
}
