package oneml.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuildDatasetsTest {

    @Test
    void sameSeedGivesByteIdenticalFiles(@TempDir Path a, @TempDir Path b) throws IOException {
        BuildDatasets.build(7, a, 2000);
        BuildDatasets.build(7, b, 2000);
        assertSameFiles(a, b);
    }

    /** The shipped files are exactly what the code makes from the default seed: they are not stale. */
    @Test
    void shippedDatasetsMatchAFreshBuild(@TempDir Path fresh) throws IOException {
        BuildDatasets.build(SyntheticWorld.DEFAULT_SEED, fresh, BuildDatasets.DEFAULT_CORPUS_DOCS);
        Path shipped = DatasetHome.find("tokenizer").getParent();
        assertSameFiles(fresh, shipped);
    }

    @Test
    void rebuildingReplacesFilesAndLeavesNoTemporaryFiles(@TempDir Path out) throws IOException {
        BuildDatasets.build(1, out, 100);
        BuildDatasets.build(2, out, 100);
        try (Stream<Path> files = Files.walk(out)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")));
        }
        assertEquals(100, Files.readAllLines(out.resolve("pretrain/corpus.txt")).size());
    }

    @Test
    void unknownOptionIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> BuildDatasets.main(new String[] {"--sed", "1"}));
        assertThrows(IllegalArgumentException.class, () -> BuildDatasets.main(new String[] {"--seed"}));
    }

    private static void assertSameFiles(Path expected, Path actual) throws IOException {
        List<Path> expectedFiles = relativeFiles(expected);
        assertEquals(expectedFiles, relativeFiles(actual));
        for (Path file : expectedFiles) {
            assertArrayEquals(Files.readAllBytes(expected.resolve(file)), Files.readAllBytes(actual.resolve(file)),
                    file + " differs");
        }
    }

    private static List<Path> relativeFiles(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).map(root::relativize).sorted().toList();
        }
    }
}
