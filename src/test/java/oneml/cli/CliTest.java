package oneml.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import oneml.TestPaths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a user runs it: real files, exit codes, one-line errors. */
class CliTest {
    @TempDir
    Path tmp;

    /** Runs the CLI, returning exit code and everything printed. */
    static Result run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        System.setOut(capture);
        System.setErr(capture);
        try {
            int code = Main.run(args);
            return new Result(code, buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    record Result(int code, String output) {}

    @Test
    void infoListsModuleNames() {
        Result r = run("info", "--model", TestPaths.vectors("gpt2").toString());
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("transformer.h.0.attn.c_attn  [32 -> 96]"), r.output());
        assertTrue(r.output().contains("[c_attn, c_proj, c_fc]"), r.output());
    }

    @Test
    void fourBitModelsLoadFromTheirFolderOrOnRequest() {
        Path dir = tmp.resolve("gpt2-4bit");
        try (var model = oneml.Models.load(TestPaths.vectors("gpt2"))) {
            model.quantize(oneml.quant.QuantConfig.qlora());
            model.save(dir);
        }
        Result r = run("info", "--model", dir.toString());
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("linear weights: NF4 + double quant, blocks of 64") && r.output().contains("pre-quantised"), r.output());
        r = run("info", "--model", TestPaths.vectors("gpt2").toString(), "--load-in-4bit");
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("linear weights: NF4 + double quant, blocks of 64"), r.output());
        r = run("info", "--model", TestPaths.vectors("gpt2").toString());
        assertTrue(!r.output().contains("linear weights:"), r.output());
    }

    @Test
    void wrongTargetModuleNamesTheModulesThatExist() {
        Result r = run("train", "--target-modules", "q_proj,query", "--steps", "1");
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().contains("error: target modules [query] not found"), r.output());
        assertTrue(r.output().contains("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"), r.output());
    }

    @Test
    void compareWritesTheReportFiles() {
        Path out = tmp.resolve("compare");
        Result r = run("compare", "--methods", "lora,prefix", "--steps", "4", "--eval-every", "2", "--eval-limit", "5", "--out", out.toString());
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("lora") && r.output().contains("prefix") && r.output().contains("report: "), r.output());
        for (String f : new String[] {"report.html", "results.json", "results.csv", "loss_curves.png", "memory_plan.png",
                "adapters/lora/adapter_model.safetensors", "adapters/prefix/adapter_config.json"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing; output:\n" + r.output());
        }
        assertEquals(2, oneml.compare.Comparison.load(out).results().size());
    }

    @Test
    void compareRejectsAnUnknownMethodBeforeTraining() {
        Result r = run("compare", "--methods", "lora,lorra", "--out", tmp.resolve("c").toString());
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().startsWith("error: unknown method 'lorra'") && r.output().contains("qlora"), r.output());
        assertTrue(!Files.exists(tmp.resolve("c")), "nothing is written for a bad command line");
    }

    @Test
    void badModelFolderIsOneLine() {
        Result r = run("info", "--model", tmp.resolve("missing").toString());
        assertEquals(2, r.code());
        assertTrue(r.output().startsWith("error: ") && r.output().contains("not a model folder"), r.output());
    }

    @Test
    void trainEvalGenerateOnTheEmbeddedModel() throws Exception {
        Path adapter = tmp.resolve("adapter");
        Result train = run("train", "--steps", "4", "--batch-size", "4", "--eval-every", "2", "--eval-limit", "4",
                "--method", "dora", "--out", adapter.toString());
        assertEquals(0, train.code(), train.output());
        assertTrue(train.output().contains("trainable params: "), train.output());
        assertTrue(train.output().contains("before training: test accuracy"), train.output());
        assertTrue(Files.isRegularFile(adapter.resolve("adapter_model.safetensors")));
        assertTrue(Files.readString(adapter.resolve("adapter_config.json")).contains("\"use_dora\": true"));

        Result eval = run("eval", "--adapter", adapter.toString(), "--limit", "4");
        assertEquals(0, eval.code(), eval.output());
        assertTrue(eval.output().contains("sentiment/test: accuracy"), eval.output());

        Result gen = run("generate", "--prompt", "mara lives in", "--max-new-tokens", "3");
        assertEquals(0, gen.code(), gen.output());
        assertTrue(gen.output().startsWith("mara lives in "), gen.output());
    }
}
