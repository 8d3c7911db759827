package oneml.io;

import java.nio.file.Path;

/** A file on disk is not what oneml expected: the message names the file and what is wrong with it. */
public class BadFileException extends IllegalArgumentException {
    private final transient Path file;

    public BadFileException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public BadFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
