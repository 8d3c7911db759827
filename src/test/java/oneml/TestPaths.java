package oneml;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where tests find the shared reference vectors and the project's shipped files. */
public final class TestPaths {
    private TestPaths() {}

    public static Path shared() {
        String configured = System.getProperty("oneml.shared");
        Path p = configured != null ? Path.of(configured) : Path.of("..", "shared");
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("reference vectors not found at " + p.toAbsolutePath()
                    + "; set -Doneml.shared=DIR to the folder holding vectors/hf-tiny");
        }
        return p;
    }

    public static Path vectors(String model) {
        return shared().resolve("vectors").resolve("hf-tiny").resolve(model);
    }
}
