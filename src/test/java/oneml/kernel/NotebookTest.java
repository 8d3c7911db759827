package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Executes notebooks/01-lora-quickstart.ipynb headless with {@code jupyter nbconvert --execute} on a kernelspec
 * for this build, and checks the result: no error cell, a chart (image/png) and an HTML table among the outputs.
 */
class NotebookTest {
    static final String KERNEL = "oneml-notebook";
    static final String NOTEBOOK = "notebooks/01-lora-quickstart.ipynb";

    @Test
    void quickstartNotebookRunsWithoutErrors(@TempDir Path tmp) throws Exception {
        JupyterSupport.requireJupyter(true);
        Path project = JupyterSupport.projectDir();
        if (!Files.isDirectory(project.resolve("models/oneml-tiny"))) {
            fail("the embedded model models/oneml-tiny is missing (see models/ and README: oneml.train.Pretrain rebuilds it)");
        }
        JupyterSupport.installTestKernel(tmp, KERNEL);
        Path outDir = tmp.resolve("out");
        JupyterSupport.Result r = JupyterSupport.run(List.of(JupyterSupport.jupyter(), "nbconvert", "--to", "notebook", "--execute",
                        "--ExecutePreprocessor.kernel_name=" + KERNEL, "--ExecutePreprocessor.timeout=600",
                        "--output-dir", outDir.toString(), "--output", "executed", project.resolve(NOTEBOOK).toString()),
                JupyterSupport.jupyterEnv(tmp), project, 900);
        System.out.printf("nbconvert --execute %s: %.1f s%n", NOTEBOOK, r.seconds());
        assertEquals(0, r.exit(), "nbconvert failed:\n" + r.output());
        Path executed = outDir.resolve("executed.ipynb");
        assertTrue(Files.isRegularFile(executed), "no executed notebook; nbconvert said:\n" + r.output());

        JsonObject nb = JsonParser.parseString(Files.readString(executed)).getAsJsonObject();
        List<String> errors = new ArrayList<>();
        boolean png = false;
        boolean htmlTable = false;
        int codeCells = 0;
        for (JsonElement c : nb.getAsJsonArray("cells")) {
            JsonObject cell = c.getAsJsonObject();
            if (!cell.get("cell_type").getAsString().equals("code")) {
                continue;
            }
            codeCells++;
            JsonArray outputs = cell.getAsJsonArray("outputs");
            for (JsonElement o : outputs) {
                JsonObject out = o.getAsJsonObject();
                String type = out.get("output_type").getAsString();
                if (type.equals("error")) {
                    errors.add(out.get("ename").getAsString() + ": " + out.get("evalue").getAsString());
                }
                if (out.has("data")) {
                    JsonObject data = out.getAsJsonObject("data");
                    png |= data.has("image/png") && text(data.get("image/png")).length() > 1000;
                    htmlTable |= data.has("text/html") && text(data.get("text/html")).contains("<table");
                }
            }
            assertTrue(cell.get("execution_count").isJsonPrimitive(), "a code cell did not run: " + cell.get("source"));
        }
        assertTrue(errors.isEmpty(), "error cells: " + errors);
        assertTrue(codeCells >= 5, "expected a real notebook, got " + codeCells + " code cells");
        assertTrue(png, "no image/png output (the loss chart)");
        assertTrue(htmlTable, "no text/html table output");
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
