package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import oneml.fuzz.FuzzRunner;
import oneml.fuzz.FuzzTarget;
import oneml.fuzz.Fuzzer.Format;
import org.junit.jupiter.api.Test;
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

    /** In a real cell a rejected argument is one line of message, not the kernel's stack. */
    @Test
    void rejectedArgumentsShowOnlyTheirMessageInACell() {
        OnemlKernel kernel = OnemlKernel.builder().synchronous().build();
        kernel.onStartup();
        try {
            for (String cell : List.of("%maven not-a-coordinate", "%mavenRepo central ftp:/x", "%jars lib/[", "%%loadFromPOM\n<dependencies>",
                    "%%loadFromPOM\n<dependency><groupId>g</groupId></dependency>")) {
                RuntimeException e = assertThrows(RuntimeException.class, () -> kernel.evalRaw(cell), cell);
                List<String> shown = kernel.formatError(e);
                assertEquals(1, shown.size(), cell + " shows " + shown);
                assertTrue(shown.get(0).contains("%" + cell.substring(cell.startsWith("%%") ? 2 : 1).split("[ \\n]")[0]), shown.get(0));
            }
        } finally {
            kernel.onShutdown(false);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void corpusAndRegressionArgumentsReplay(FuzzTarget target, @TempDir Path work) throws Exception {
        FuzzRunner.replay(target, work);
    }
}
