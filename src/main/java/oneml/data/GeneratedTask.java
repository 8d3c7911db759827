package oneml.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** A task as generated in memory, before it is written as JSON Lines. */
record GeneratedTask(String name, List<Example> train, List<Example> validation, List<Example> test) {

    GeneratedTask {
        train = List.copyOf(train);
        validation = List.copyOf(validation);
        test = List.copyOf(test);
    }

    /** Writes {@code <root>/<name>/{train,validation,test}.jsonl}. */
    void writeTo(Path root) throws IOException {
        Path dir = root.resolve(name);
        JsonLines.write(dir.resolve("train.jsonl"), train);
        JsonLines.write(dir.resolve("validation.jsonl"), validation);
        JsonLines.write(dir.resolve("test.jsonl"), test);
    }
}
