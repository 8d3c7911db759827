package oneml.data;

import oneml.io.AtomicFiles;
import oneml.io.JsonFiles;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * JSON Lines: one JSON object per line, e.g. {@code {"prompt": "...", "response": "..."}}.
 *
 * <p>Reading is strict (standard JSON only, one object per line) so that a damaged file fails with
 * the line to look at instead of loading something subtly different.
 */
final class JsonLines {

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private JsonLines() {}

    /** Writes prompt/response rows atomically, keys in that order, "\n" after every line. */
    static void write(Path file, List<Example> rows) throws IOException {
        AtomicFiles.writeText(file, out -> {
            for (Example row : rows) {
                JsonObject obj = new JsonObject();
                obj.addProperty("prompt", row.prompt());
                obj.addProperty("response", row.response());
                out.write(GSON.toJson(obj));
                out.write('\n');
            }
        });
    }

    /**
     * Reads a split into a table of string columns: prompt and response, or text. Blank lines are
     * skipped; other keys on a line are ignored.
     *
     * @throws IllegalArgumentException naming the file and line of the first bad line
     */
    static Table read(Path file) throws IOException {
        // strict UTF-8: a file that is not text fails naming the byte, instead of an I/O error without the file
        List<String> lines = JsonFiles.readText(file, "JSON Lines file", Long.MAX_VALUE).lines().toList();
        SplitFormat format = null;
        List<List<String>> values = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            String where = file + ":" + (i + 1);
            JsonObject obj = parseObject(line, where);
            if (format == null) {
                format = SplitFormat.of(obj.keySet(), where);
                for (int c = 0; c < format.columns().size(); c++) {
                    values.add(new ArrayList<>());
                }
            }
            for (int c = 0; c < format.columns().size(); c++) {
                values.get(c).add(stringValue(obj, format.columns().get(c), where));
            }
        }
        if (format == null) {
            throw new IllegalArgumentException(file + ": no rows; expected one JSON object per line");
        }
        Table table = Table.create(file.getFileName().toString());
        for (int c = 0; c < format.columns().size(); c++) {
            table.addColumns(StringColumn.create(format.columns().get(c), values.get(c)));
        }
        return table;
    }

    private static JsonObject parseObject(String line, String where) {
        JsonElement element;
        try {
            JsonReader reader = new JsonReader(new StringReader(line));
            reader.setStrictness(Strictness.STRICT);
            element = JsonParser.parseReader(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new JsonParseException("more than one JSON value on the line");
            }
        } catch (JsonParseException | IOException | StackOverflowError e) {
            // the line is parsed alone, so Gson's "line 1" is noise: the column is what locates the problem
            throw new IllegalArgumentException(where + ": malformed JSON (" + JsonFiles.describe(e).replace("at line 1, column", "at column")
                    + "): " + abbreviate(line), e);
        }
        if (!element.isJsonObject()) {
            throw new IllegalArgumentException(where + ": expected a JSON object such as "
                    + "{\"prompt\": \"...\", \"response\": \"...\"}, found: " + abbreviate(line));
        }
        return element.getAsJsonObject();
    }

    private static String stringValue(JsonObject obj, String column, String where) {
        JsonElement value = obj.get(column);
        if (value == null || value.isJsonNull()) {
            throw new IllegalArgumentException(where + ": missing column '" + column
                    + "'; this line has columns " + List.copyOf(obj.keySet()));
        }
        if (!value.isJsonPrimitive()) {
            throw new IllegalArgumentException(where + ": column '" + column
                    + "' must be a string, found: " + abbreviate(value.toString()));
        }
        return value.getAsString();
    }

    private static String abbreviate(String text) {
        return text.length() <= 120 ? text : text.substring(0, 117) + "...";
    }
}
