package oneml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import oneml.io.ProjectHome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

class DatasetsTest {

    @Test
    void shippedTasksLoadWithTheirSplits() throws IOException {
        TextDataset sentiment = Datasets.sentiment();
        assertEquals("sentiment", sentiment.name());
        assertEquals(List.of("prompt", "response"), sentiment.columns());
        assertEquals(1600, sentiment.train().rowCount());
        assertEquals(200, sentiment.validation().rowCount());
        assertEquals(200, sentiment.test().rowCount());
        assertEquals(600, Datasets.facts().train().rowCount());
        assertEquals(200, Datasets.topic().split("test").rowCount());
        assertEquals(200, Datasets.facts().examples("test").size());
    }

    @Test
    void toStringShowsNameSizesAndAnExample() throws IOException {
        String s = Datasets.facts().toString();
        assertTrue(s.startsWith("facts: train 600, validation 200, test 200 rows; columns [prompt, response]; e.g. prompt=\"question : "), s);
        assertTrue(s.contains("response=\""), s);
    }

    @Test
    void loadsJsonLinesAndCsvIntoStringColumns(@TempDir Path dir) throws IOException {
        write(dir, "train.jsonl", "{\"prompt\": \"a :\", \"response\": \"b\", \"extra\": 1}", "", "{\"prompt\": \"c :\", \"response\": \"d\"}");
        write(dir, "validation.csv", "response,prompt", "1,\"x, y :\"");
        write(dir, "test.jsonl", "{\"response\": \"true\", \"prompt\": \"z :\"}");
        TextDataset data = Datasets.load(dir);
        assertEquals(dir.getFileName().toString(), data.name());
        assertEquals(List.of("prompt", "response"), data.columns());
        assertEquals(List.of(new Example("a :", "b"), new Example("c :", "d")), data.examples("train"));
        assertEquals(List.of(new Example("x, y :", "1")), data.examples("validation"));
        assertEquals("true", data.test().getString(0, "response"));
    }

    @Test
    void loadsATextColumn(@TempDir Path dir) throws IOException {
        Path file = write(dir, "train.jsonl", "{\"text\": \"the soup was cold .\"}");
        Table table = Datasets.loadSplit(file);
        assertEquals(List.of("text"), table.columnNames());
        assertEquals("the soup was cold .", table.getString(0, "text"));
    }

    @Test
    void missingColumnNamesFileLineAndColumnsPresent(@TempDir Path dir) throws IOException {
        Path file = write(dir, "train.jsonl",
                "{\"prompt\": \"a :\", \"response\": \"b\"}",
                "{\"prompt\": \"c :\", \"label\": \"d\"}");
        String message = assertThrows(IllegalArgumentException.class, () -> Datasets.loadSplit(file)).getMessage();
        assertEquals(file + ":2: missing column 'response'; this line has columns [prompt, label]", message);
    }

    @Test
    void firstLineWithoutKnownColumnsSaysWhatIsExpected(@TempDir Path dir) throws IOException {
        Path file = write(dir, "train.jsonl", "{\"question\": \"a\", \"answer\": \"b\"}");
        String message = assertThrows(IllegalArgumentException.class, () -> Datasets.loadSplit(file)).getMessage();
        assertEquals(file + ":1: expected columns [prompt, response] or [text], but found [question, answer]", message);
    }

    @Test
    void malformedJsonLineNamesFileAndLine(@TempDir Path dir) throws IOException {
        Path file = write(dir, "train.jsonl",
                "{\"prompt\": \"a :\", \"response\": \"b\"}",
                "",
                "{\"prompt\": \"c :\", \"response\": \"d\"");
        String message = assertThrows(IllegalArgumentException.class, () -> Datasets.loadSplit(file)).getMessage();
        assertTrue(message.startsWith(file + ":3: malformed JSON ("), message);
        assertTrue(message.endsWith("): {\"prompt\": \"c :\", \"response\": \"d\""), message);
    }

    @Test
    void lenientJsonAndNonObjectsAreRejected(@TempDir Path dir) throws IOException {
        Path unquoted = write(dir, "a.jsonl", "{prompt: a, response: b}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Datasets.loadSplit(unquoted))
                .getMessage().startsWith(unquoted + ":1: malformed JSON"));
        Path array = write(dir, "b.jsonl", "[\"a\", \"b\"]");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Datasets.loadSplit(array))
                .getMessage().startsWith(array + ":1: expected a JSON object"));
        Path nested = write(dir, "c.jsonl", "{\"prompt\": \"a\", \"response\": [\"b\"]}");
        assertEquals(nested + ":1: column 'response' must be a string, found: [\"b\"]",
                assertThrows(IllegalArgumentException.class, () -> Datasets.loadSplit(nested)).getMessage());
        Path empty = write(dir, "d.jsonl", "", "  ");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Datasets.loadSplit(empty))
                .getMessage().startsWith(empty + ": no rows"));
    }

    @Test
    void csvErrorsNameTheFile(@TempDir Path dir) throws IOException {
        Path noResponse = write(dir, "a.csv", "prompt,label", "a :,b");
        assertEquals(noResponse + ":1 (header): expected columns [prompt, response] or [text], but found [prompt, label]",
                assertThrows(IllegalArgumentException.class, () -> Datasets.loadSplit(noResponse)).getMessage());
        Path extraField = write(dir, "b.csv", "prompt,response", "a :,b", "c :,d,e");
        String message = assertThrows(IllegalArgumentException.class, () -> Datasets.loadSplit(extraField)).getMessage();
        assertTrue(message.startsWith(extraField + ": malformed CSV (") && message.contains("data row 2 has 3 fields but the header has 2"), message);
    }

    @Test
    void folderErrors(@TempDir Path dir) throws IOException {
        write(dir, "train.jsonl", "{\"prompt\": \"a :\", \"response\": \"b\"}");
        write(dir, "test.jsonl", "{\"prompt\": \"a :\", \"response\": \"b\"}");
        assertEquals(dir + ": missing validation.jsonl or validation.csv; the folder has [test.jsonl, train.jsonl]",
                assertThrows(IllegalArgumentException.class, () -> Datasets.load(dir)).getMessage());
        write(dir, "validation.jsonl", "{\"text\": \"a\"}");
        assertEquals(dir + ": validation has columns [text] but train has [prompt, response]",
                assertThrows(IllegalArgumentException.class, () -> Datasets.load(dir)).getMessage());
        Path txt = write(dir, "train.txt", "a");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Datasets.loadSplit(txt))
                .getMessage().contains("expected .jsonl or .csv"));
        assertThrows(IllegalArgumentException.class, () -> Datasets.load(dir.resolve("absent")));
        assertThrows(IllegalArgumentException.class, () -> Datasets.shipped("absent"));
        assertThrows(IllegalArgumentException.class, () -> Datasets.facts().split("dev"));
    }

    @Test
    void homePropertyIsSearchedFirst(@TempDir Path home) throws IOException {
        Path task = Files.createDirectories(home.resolve("datasets").resolve("only-here"));
        String before = System.getProperty(ProjectHome.PROPERTY);
        try {
            System.setProperty(ProjectHome.PROPERTY, home.toString());
            assertEquals(task, DatasetHome.find("only-here"));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> DatasetHome.find("nowhere"));
            assertTrue(e.getMessage().contains("datasets/nowhere") && e.getMessage().contains("-Doneml.home"),
                    e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(ProjectHome.PROPERTY);
            } else {
                System.setProperty(ProjectHome.PROPERTY, before);
            }
        }
        // Without the property the project's own datasets/ is found from the working directory.
        assertTrue(Files.isRegularFile(Datasets.tokenizerFile()));
    }

    private static Path write(Path dir, String name, String... lines) throws IOException {
        return Files.write(dir.resolve(name), List.of(lines));
    }

    @Test
    void oneFileSplitsEightyTenTenDeterministically(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path file = tmp.resolve("reviews.jsonl");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            lines.append("{\"prompt\":\"p").append(i).append("\",\"response\":\"r").append(i).append("\"}\n");
        }
        java.nio.file.Files.writeString(file, lines);
        TextDataset d = Datasets.splitFile(file, 7);
        assertEquals("reviews", d.name());
        assertEquals(40, d.train().rowCount());
        assertEquals(5, d.validation().rowCount());
        assertEquals(5, d.test().rowCount());
        java.util.Set<String> all = new java.util.HashSet<>();
        for (String split : Datasets.SPLITS) {
            all.addAll(d.split(split).stringColumn("prompt").asList());
        }
        assertEquals(50, all.size(), "every row in exactly one split");
        assertEquals(d.test().stringColumn("prompt").asList(), Datasets.splitFile(file, 7).test().stringColumn("prompt").asList());
    }
}
