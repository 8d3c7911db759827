package oneml.data;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.Table;
import tech.tablesaw.io.csv.CsvReadOptions;

/** Reads a split from a CSV file with a header row, every column as a string. */
final class CsvSplit {

    private CsvSplit() {}

    /**
     * @throws IllegalArgumentException naming the file when it cannot be parsed or lacks the
     *     prompt/response or text columns
     */
    static Table read(Path file) {
        Table table;
        try {
            // Every column is read as text: a response such as "1" or "true" must stay a string.
            table = Table.read().csv(CsvReadOptions.builder(file.toFile())
                    .columnTypes(column -> ColumnType.STRING)
                    .maxCharsPerColumn(MAX_FIELD_CHARS)
                    .tableName(file.getFileName().toString())
                    .build());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": malformed CSV (" + problem(e) + ")", e);
        }
        SplitFormat format = SplitFormat.of(table.columnNames(), file + ":1 (header)");
        return table.selectColumns(format.columns().toArray(String[]::new));
    }

    /** Prompts and documents can be long; Tablesaw's default cap is 4,096 characters per field. */
    static final int MAX_FIELD_CHARS = 1 << 20;

    private static final Pattern FIELDS = Pattern.compile("Row number (\\d+) contains (\\d+) columns?\\. (\\d+) expected");
    private static final Pattern DUPLICATE = Pattern.compile("duplicate name (.*) to table");

    /** Tablesaw's and its parser's messages in the words of a CSV file's author. */
    private static String problem(RuntimeException e) {
        String m = String.valueOf(e.getMessage());
        Matcher fields = FIELDS.matcher(m);
        if (fields.find()) {
            // Tablesaw counts data rows from 1 after the header, so row n is line n + 1 unless a quoted field spans lines
            return "data row " + fields.group(1) + " has " + fields.group(2) + " fields but the header has " + fields.group(3)
                    + "; a missing or extra comma, or an unclosed quote? Data row n is line n + 1 of the file";
        }
        Matcher duplicate = DUPLICATE.matcher(m);
        if (duplicate.find()) {
            return "the header names the column '" + duplicate.group(1).strip() + "' more than once";
        }
        if (m.contains("exceeds the maximum number of characters")) {
            return "a field is longer than " + MAX_FIELD_CHARS + " characters; is a quote left open?";
        }
        if (m.contains("maximum number of columns")) {
            return "a row has more fields than the CSV reader allows; is this a CSV file?";
        }
        String line = m.lines().findFirst().orElse("unreadable");
        return line.length() <= 200 ? line : line.substring(0, 197) + "...";
    }
}
