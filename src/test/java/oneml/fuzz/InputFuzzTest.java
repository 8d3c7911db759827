package oneml.fuzz;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.stream.Stream;
import oneml.data.Datasets;
import oneml.fuzz.Fuzzer.Format;
import oneml.io.SafeTensors;
import oneml.model.Engines;
import oneml.model.ModelConfig;
import oneml.model.TextTokenizer;
import oneml.peft.AdapterFiles;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every reader of a user's file, fuzzed ({@link FuzzRunner#INPUTS} mutated inputs each, seeded) and replayed over its
 * corpus and regression files in src/test/resources/fuzz/NAME. A new reader is one more line in {@link #targets()}
 * plus a corpus folder with an ok-* seed or two. The magics' arguments are fuzzed beside the kernel (MagicsFuzzTest).
 */
class InputFuzzTest {

    static Stream<FuzzTarget> targets() {
        return Stream.of(
                FuzzTarget.file("safetensors", Format.SAFETENSORS, "model.safetensors", InputFuzzTest::readTensors),
                FuzzTarget.file("config", Format.JSON, "config.json", ModelConfig::read),
                FuzzTarget.file("adapter-config", Format.JSON, "adapter_config.json", f -> AdapterFiles.readPeftConfig(f.getParent())),
                FuzzTarget.file("tokenizer", Format.JSON, "tokenizer.json", InputFuzzTest::loadTokenizer),
                FuzzTarget.file("jsonl", Format.JSON_LINES, "train.jsonl", Datasets::loadSplit),
                FuzzTarget.file("csv", Format.CSV, "train.csv", Datasets::loadSplit));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void mutatedInputsAreReadOrRejectedClearly(FuzzTarget target, @TempDir Path work) throws Exception {
        FuzzRunner.fuzz(target, work);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void corpusAndRegressionFilesReplay(FuzzTarget target, @TempDir Path work) throws Exception {
        FuzzRunner.replay(target, work);
    }

    /** The tensors are tiny (the corpus files are a few hundred bytes), so reading them touches libtorch only briefly. */
    private static void readTensors(Path file) {
        try (NDManager m = Engines.rootManager().newSubManager()) {
            SafeTensors.read(file, m);
        }
    }

    /** Loading, then one encode: a file the native library accepts must also work. */
    private static void loadTokenizer(Path file) {
        try (TextTokenizer t = TextTokenizer.load(file)) {
            t.encode("mara lives in paris, the review was good.");
        }
    }
}
