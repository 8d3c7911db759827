package oneml.data;

import java.nio.file.Path;
import oneml.io.ProjectHome;

/**
 * Finds the shipped {@code datasets/} folder. The search itself is the project's one rule,
 * {@link ProjectHome}: {@code -Doneml.home}, then the current folder and each folder above it.
 */
final class DatasetHome {

    static final String FOLDER = "datasets";

    private DatasetHome() {}

    /** The path of {@code datasets/<entry>}: a task folder, "tokenizer" or "pretrain". */
    static Path find(String entry) {
        try {
            return ProjectHome.find(FOLDER + "/" + entry);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + ", or regenerate the datasets with: java -cp ..."
                    + " oneml.data.BuildDatasets --seed " + SyntheticWorld.DEFAULT_SEED + " --out datasets", e);
        }
    }
}
