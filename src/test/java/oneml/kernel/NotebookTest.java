package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Executes every notebook in notebooks/ headless with {@code jupyter nbconvert --execute} on a kernelspec for this
 * build, and checks the result: every code cell ran, no error output, at least one chart (image/png) and one HTML
 * table, and every cell whose committed output shows a chart or a table shows one again. The committed notebooks
 * must carry their outputs (so they read well on GitHub): executed, without errors, charts titled.
 */
class NotebookTest {
    static final String KERNEL = "oneml-notebook";
    static final Path NOTEBOOKS = Path.of("notebooks");

    static Stream<String> notebooks() throws IOException {
        try (Stream<Path> files = Files.list(JupyterSupport.projectDir().resolve(NOTEBOOKS))) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".ipynb")).sorted().toList();
            assertFalse(names.isEmpty(), "no notebooks in " + NOTEBOOKS);
            return names.stream();
        }
    }

    @Test
    void theTeachingNotebooksAreThere() throws IOException {
        List<String> names = notebooks().toList();
        for (String expected : List.of("01-lora-quickstart.ipynb", "02-compare-peft-methods.ipynb", "03-qlora-and-memory.ipynb",
                "04-prefix-prompt-adapters.ipynb", "05-dora-and-beyond.ipynb", "06-best-practices-measured.ipynb")) {
            assertTrue(names.contains(expected), expected + " is missing from notebooks/: " + names);
        }
    }

    /** The committed file: stored outputs, every code cell executed, no error cell, a titled chart and a table. */
    @ParameterizedTest(name = "{0} (committed outputs)")
    @MethodSource("notebooks")
    void committedNotebookCarriesItsOutputs(String name) throws IOException {
        Path file = JupyterSupport.projectDir().resolve(NOTEBOOKS).resolve(name);
        Outputs committed = Outputs.of(JsonParser.parseString(Files.readString(file)).getAsJsonObject());
        assertTrue(committed.notRun.isEmpty(), name + " is committed with cells that did not run (execute it with nbconvert --inplace): "
                + committed.notRun);
        committed.assertHealthy(name + " (committed)");
    }

    @ParameterizedTest(name = "{0} (executed headless)")
    @MethodSource("notebooks")
    void notebookRunsWithoutErrors(String name, @TempDir Path tmp) throws Exception {
        JupyterSupport.requireJupyter(true);
        Path project = JupyterSupport.projectDir();
        if (!Files.isDirectory(project.resolve("models/oneml-tiny"))) {
            fail("the embedded model models/oneml-tiny is missing (see models/ and README: oneml.train.Pretrain rebuilds it)");
        }
        Path notebook = project.resolve(NOTEBOOKS).resolve(name);
        JupyterSupport.installTestKernel(tmp, KERNEL);
        Path outDir = tmp.resolve("out");
        JupyterSupport.Result r = JupyterSupport.run(List.of(JupyterSupport.jupyter(), "nbconvert", "--to", "notebook", "--execute",
                        "--ExecutePreprocessor.kernel_name=" + KERNEL, "--ExecutePreprocessor.timeout=600",
                        "--output-dir", outDir.toString(), "--output", "executed", notebook.toString()),
                JupyterSupport.jupyterEnv(tmp), project, 900);
        System.out.printf("nbconvert --execute %s: %.1f s%n", name, r.seconds());
        assertEquals(0, r.exit(), "nbconvert failed:\n" + r.output());
        Path executed = outDir.resolve("executed.ipynb");
        assertTrue(Files.isRegularFile(executed), "no executed notebook; nbconvert said:\n" + r.output());

        Outputs now = Outputs.of(JsonParser.parseString(Files.readString(executed)).getAsJsonObject());
        assertTrue(now.notRun.isEmpty(), "code cells did not run: " + now.notRun);
        now.assertHealthy(name);

        // where the committed notebook shows a chart or a table, the fresh run must show one too
        Outputs committed = Outputs.of(JsonParser.parseString(Files.readString(notebook)).getAsJsonObject());
        assertEquals(committed.codeCells, now.codeCells, "code cell count");
        for (int i = 0; i < committed.codeCells; i++) {
            if (committed.pngCells.contains(i)) {
                assertTrue(now.pngCells.contains(i), name + ": code cell " + i + " shows a chart in the committed notebook but not when run");
            }
            if (committed.tableCells.contains(i)) {
                assertTrue(now.tableCells.contains(i), name + ": code cell " + i + " shows a table in the committed notebook but not when run");
            }
        }
    }

    /** What a notebook's code cells hold, by code-cell index. */
    record Outputs(int codeCells, List<String> errors, List<String> notRun, List<Integer> pngCells, List<Integer> tableCells,
            List<String> untitledCharts) {

        static Outputs of(JsonObject nb) {
            List<String> errors = new ArrayList<>();
            List<String> notRun = new ArrayList<>();
            List<Integer> png = new ArrayList<>();
            List<Integer> tables = new ArrayList<>();
            List<String> untitled = new ArrayList<>();
            int index = 0;
            for (JsonElement c : nb.getAsJsonArray("cells")) {
                JsonObject cell = c.getAsJsonObject();
                if (!cell.get("cell_type").getAsString().equals("code")) {
                    continue;
                }
                String source = text(cell.get("source"));
                if (!cell.get("execution_count").isJsonPrimitive()) {
                    notRun.add(source);
                }
                JsonArray outputs = cell.getAsJsonArray("outputs");
                for (JsonElement o : outputs) {
                    JsonObject out = o.getAsJsonObject();
                    String type = out.get("output_type").getAsString();
                    if (type.equals("error")) {
                        errors.add(out.get("ename").getAsString() + ": " + out.get("evalue").getAsString() + " in\n" + source);
                    }
                    if (type.equals("stream") && text(out.get("text")).contains("could not render")) {
                        errors.add("a renderer failed: " + text(out.get("text")));
                    }
                    if (out.has("data")) {
                        JsonObject data = out.getAsJsonObject("data");
                        if (data.has("image/png") && text(data.get("image/png")).length() > 1000) {
                            png.add(index);
                            // the kernel's text/plain for a chart is: XYChart "title"
                            String plain = data.has("text/plain") ? text(data.get("text/plain")) : "";
                            if (!plain.contains("\"")) {
                                untitled.add(plain + " in\n" + source);
                            }
                        }
                        if (data.has("text/html") && text(data.get("text/html")).contains("<table")) {
                            tables.add(index);
                        }
                        if (data.has("text/plain") && text(data.get("text/plain")).contains("could not render")) {
                            errors.add("a renderer failed: " + text(data.get("text/plain")));
                        }
                    }
                }
                index++;
            }
            return new Outputs(index, errors, notRun, png, tables, untitled);
        }

        void assertHealthy(String what) {
            assertTrue(errors.isEmpty(), what + ": error outputs: " + errors);
            assertTrue(codeCells >= 5, what + ": expected a real notebook, got " + codeCells + " code cells");
            assertFalse(pngCells.isEmpty(), what + ": no image/png output (a chart)");
            assertFalse(tableCells.isEmpty(), what + ": no text/html table output");
            assertTrue(untitledCharts.isEmpty(), what + ": charts without a title: " + untitledCharts);
        }
    }

    /** A notebook string: one string or (nbformat's multiline form) an array of lines. */
    static String text(JsonElement e) {
        if (e.isJsonArray()) {
            StringBuilder s = new StringBuilder();
            e.getAsJsonArray().forEach(line -> s.append(line.getAsString()));
            return s.toString();
        }
        return e.getAsString();
    }
}
