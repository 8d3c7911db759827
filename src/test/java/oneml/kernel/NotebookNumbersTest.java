package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every number a notebook's prose quotes from its own output is marked, and matches that output as stored: a quoted
 * figure is written {@code <span data-ref="CELL-ID">0.98</span>} (the id of the code cell whose stored output shows
 * it; Jupyter renders the span as plain text). The figure matches when some number in that cell's stored outputs,
 * rounded to the quoted number of decimals, equals it ("0.98" matches 0.983 and 0.98; "2,557" matches 2557.4).
 * Reads the committed files only; it does not execute them (see notebooks/README.md).
 */
class NotebookNumbersTest {
    /** A marked figure: the cell id it refers to and the figure as written. */
    static final Pattern MARK = Pattern.compile("<span data-ref=\"([^\"]*)\">([^<]*)</span>");
    /** A number as outputs print them: optional sign, thousands separators, decimals, exponent. */
    static final Pattern NUMBER = Pattern.compile("-?\\d[\\d,]*(?:\\.\\d+)?(?:[eE][-+]?\\d+)?");
    static final Pattern QUOTED = Pattern.compile("-?\\d{1,3}(?:,\\d{3})*(?:\\.\\d+)?|-?\\d+(?:\\.\\d+)?");

    record Mark(String cell, String figure) {}

    @ParameterizedTest(name = "{0}")
    @MethodSource("oneml.kernel.NotebookTest#notebooks")
    void everyQuotedNumberMatchesTheOutputItRefersTo(String name) throws IOException {
        JsonObject nb = JsonParser.parseString(Files.readString(JupyterSupport.projectDir().resolve(NotebookTest.NOTEBOOKS).resolve(name)))
                .getAsJsonObject();
        List<String> problems = check(nb);
        assertTrue(problems.isEmpty(), name + ": quoted numbers that its stored outputs do not show:\n  " + String.join("\n  ", problems));
    }

    @Test
    void theNotebooksQuoteMarkedNumbers() throws IOException {
        // the convention is in use: the comparison notebook quotes its figures with marks
        JsonObject nb = JsonParser.parseString(Files.readString(JupyterSupport.projectDir().resolve(NotebookTest.NOTEBOOKS)
                .resolve("02-compare-peft-methods.ipynb"))).getAsJsonObject();
        assertTrue(marks(nb).size() >= 5, "02 quotes fewer than 5 marked numbers");
    }

    @Test
    void matchingRoundsToTheQuotedDecimals() {
        String out = "accuracy 0.983, 2,557 tok/s, error 3.36e-03, ratio 1.0";
        assertTrue(matches("0.98", out));
        assertTrue(matches("2,557", out));
        assertTrue(matches("2557", out));
        assertTrue(matches("0.00336", out));
        assertTrue(matches("1", out));
        assertFalse(matches("0.99", out), "0.983 rounds to 0.98, not 0.99");
        assertFalse(matches("2,600", out));
        assertFalse(matches("0.9830", "accuracy 0.983"), "a figure with more decimals than the output shows is not in the output");
        assertFalse(matches("not a number", out));
    }

    @Test
    void aMarkWithNoMatchOrNoCellFails() {
        JsonObject nb = JsonParser.parseString("""
                {"cells": [
                  {"cell_type": "code", "id": "c1", "source": ["x"], "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": ["peak 225.6 MB\\n"]},
                    {"output_type": "execute_result", "data": {"text/plain": ["accuracy 0.983"]}}]},
                  {"cell_type": "markdown", "id": "m1", "source": ["peak <span data-ref=\\"c1\\">226</span> MB, ",
                    "accuracy <span data-ref=\\"c1\\">0.98</span>, ", "wrong <span data-ref=\\"c1\\">0.97</span>, ",
                    "nowhere <span data-ref=\\"c9\\">1</span>"]}
                ]}""").getAsJsonObject();
        List<String> problems = check(nb);
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("0.97") && problems.get(0).contains("c1"), problems.get(0));
        assertTrue(problems.get(1).contains("c9") && problems.get(1).contains("no code cell"), problems.get(1));
    }

    /** Every problem with the notebook's marked numbers, one line each. */
    static List<String> check(JsonObject nb) {
        Map<String, String> outputs = new HashMap<>();
        for (JsonElement e : nb.getAsJsonArray("cells")) {
            JsonObject cell = e.getAsJsonObject();
            if (cell.get("cell_type").getAsString().equals("code") && cell.has("id")) {
                outputs.put(cell.get("id").getAsString(), outputText(cell));
            }
        }
        List<String> problems = new ArrayList<>();
        for (Mark m : marks(nb)) {
            String out = outputs.get(m.cell());
            if (out == null) {
                problems.add("'" + m.figure() + "' refers to " + m.cell() + ", which is no code cell of this notebook");
            } else if (!matches(m.figure(), out)) {
                problems.add("'" + m.figure() + "' is not in the stored output of " + m.cell() + " (at the quoted rounding)");
            }
        }
        return problems;
    }

    static List<Mark> marks(JsonObject nb) {
        List<Mark> marks = new ArrayList<>();
        for (JsonElement e : nb.getAsJsonArray("cells")) {
            JsonObject cell = e.getAsJsonObject();
            if (cell.get("cell_type").getAsString().equals("markdown")) {
                Matcher m = MARK.matcher(join(cell.get("source")));
                while (m.find()) {
                    marks.add(new Mark(m.group(1), m.group(2).trim()));
                }
            }
        }
        return marks;
    }

    /** The text of a code cell's stored outputs: streams and text/plain (tables print every value there). */
    static String outputText(JsonObject cell) {
        StringBuilder s = new StringBuilder();
        for (JsonElement e : cell.getAsJsonArray("outputs")) {
            JsonObject o = e.getAsJsonObject();
            if (o.has("text")) {
                s.append(join(o.get("text"))).append('\n');
            }
            if (o.has("data") && o.getAsJsonObject("data").has("text/plain")) {
                s.append(join(o.getAsJsonObject("data").get("text/plain"))).append('\n');
            }
        }
        return s.toString();
    }

    /** Whether some number in {@code output}, rounded to the decimals of {@code figure}, equals it. */
    static boolean matches(String figure, String output) {
        if (!QUOTED.matcher(figure).matches()) {
            return false;
        }
        BigDecimal quoted = new BigDecimal(figure.replace(",", ""));
        int decimals = Math.max(0, quoted.scale());
        Matcher m = NUMBER.matcher(output);
        while (m.find()) {
            BigDecimal shown;
            try {
                shown = new BigDecimal(m.group().replace(",", ""));
            } catch (NumberFormatException e) {
                continue; // "1,2," and the like: not a number as printed
            }
            if (shown.setScale(decimals, RoundingMode.HALF_UP).compareTo(quoted) == 0 && decimals <= Math.max(0, shown.scale())) {
                return true;
            }
        }
        return false;
    }

    private static String join(JsonElement source) {
        if (source.isJsonArray()) {
            StringBuilder s = new StringBuilder();
            for (JsonElement line : (JsonArray) source) {
                s.append(line.getAsString());
            }
            return s.toString();
        }
        return source.getAsString();
    }
}
