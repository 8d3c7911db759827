package oneml.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds files the project ships (the embedded model, the datasets) from wherever oneml runs: the folder
 * named by -Doneml.home, the current folder, or any folder above it (a notebook's folder, target/).
 */
public final class ProjectHome {
    public static final String PROPERTY = "oneml.home";

    private ProjectHome() {}

    /** The first existing {@code <candidate>/relative}; an error lists the places searched and the fix. */
    public static Path find(String relative) {
        List<Path> searched = new ArrayList<>();
        String home = System.getProperty(PROPERTY, System.getenv("ONEML_HOME"));
        if (home != null && !home.isBlank()) {
            searched.add(Path.of(home).toAbsolutePath());
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            searched.add(dir);
        }
        for (Path dir : searched) {
            Path candidate = dir.resolve(relative);
            if (Files.exists(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("cannot find " + relative + " (looked under " + searched
                + "); run from the oneml project folder or set -D" + PROPERTY + "=<project folder>");
    }
}
