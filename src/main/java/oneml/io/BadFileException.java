package oneml.io;

import java.nio.file.Path;

/**
 * A file on disk is not what oneml expected: the message names the file and what is wrong with it. Values the
 * problem echoes from the file are cut to a readable length (a 2,000-character "model_type" is shown by its start).
 */
public class BadFileException extends IllegalArgumentException {
    private final transient Path file;

    public BadFileException(Path file, String problem) {
        super(file + ": " + readable(problem));
        this.file = file;
    }

    public BadFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + readable(problem), cause);
        this.file = file;
    }

    /** Long runs without spaces (echoed values) cut to 120 characters, the whole problem to 1,000. */
    static String readable(String problem) {
        if (problem == null) {
            return "unreadable";
        }
        String cut = java.util.regex.Pattern.compile("\\S{121,}").matcher(problem)
                .replaceAll(m -> java.util.regex.Matcher.quoteReplacement(m.group().substring(0, 117) + "..."));
        return cut.length() <= 1000 ? cut : cut.substring(0, 997) + "...";
    }

    public Path file() {
        return file;
    }
}
