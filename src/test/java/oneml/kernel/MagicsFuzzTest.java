package oneml.kernel;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import oneml.fuzz.FuzzRunner;
import oneml.fuzz.FuzzTarget;
import oneml.fuzz.Fuzzer.Format;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The magics' argument checks under the input fuzzer: %maven coordinates, %mavenRepo ID and URL, %jars and
 * %classpath globs, the %%loadFromPOM cell. Parse-only: nothing is resolved, listed or added to the class path.
 * Every rejection must name the magic. A new magic with arguments is one more line.
 */
class MagicsFuzzTest {

    static Stream<FuzzTarget> targets() {
        return Stream.of(
                line("maven"),
                line("mavenRepo"),
                line("jars"),
                line("classpath"),
                new FuzzTarget("loadFromPOM", Format.TEXT, "cell.xml", "%%loadFromPOM",
                        f -> Magics.parseArguments("loadFromPOM", List.of(), text(f))));
    }

    /** The input is a magic's argument line, split at whitespace as the kernel's magic parser does for unquoted words. */
    private static FuzzTarget line(String magic) {
        return new FuzzTarget(magic, Format.TEXT, magic + ".txt", "%" + magic, f -> {
            String args = text(f).strip();
            Magics.parseArguments(magic, args.isEmpty() ? List.of() : List.of(args.split("\\s+")), null);
        });
    }

    private static String text(Path f) throws java.io.IOException {
        return new String(Files.readAllBytes(f), StandardCharsets.UTF_8); // a cell arrives as text, already decoded
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void mutatedArgumentsAreAcceptedOrRejectedClearly(FuzzTarget target, @TempDir Path work) throws Exception {
        FuzzRunner.fuzz(target, work);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void corpusAndRegressionArgumentsReplay(FuzzTarget target, @TempDir Path work) throws Exception {
        FuzzRunner.replay(target, work);
    }
}
