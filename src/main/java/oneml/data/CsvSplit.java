package oneml.data;

import java.nio.file.Path;
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
                    .tableName(file.getFileName().toString())
                    .build());
        } catch (RuntimeException e) {
            // Tablesaw counts data rows from 1 after the header, so row n is line n + 1 unless a
            // quoted field spans lines.
            throw new IllegalArgumentException(file + ": malformed CSV (" + e.getMessage()
                    + "; data row n is line n + 1 of the file)", e);
        }
        SplitFormat format = SplitFormat.of(table.columnNames(), file + ":1 (header)");
        return table.selectColumns(format.columns().toArray(String[]::new));
    }
}
