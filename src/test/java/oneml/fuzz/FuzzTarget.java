package oneml.fuzz;

import java.nio.file.Path;

/**
 * One reader of users' input under fuzzing: its corpus folder (src/test/resources/fuzz/NAME), how its bytes are
 * structured, the file name the input is written under, what every rejection must mention (the file's name, or a
 * magic's name), and the reader itself, which gets the written file.
 */
public record FuzzTarget(String name, Fuzzer.Format format, String fileName, String mention, Reader reader) {

    /** Reads the file as the product does; returning normally means the input was accepted. */
    @FunctionalInterface
    public interface Reader {
        void read(Path file) throws Exception;
    }

    /** A reader of a file: rejections must name the file. */
    public static FuzzTarget file(String name, Fuzzer.Format format, String fileName, Reader reader) {
        return new FuzzTarget(name, format, fileName, fileName, reader);
    }

    @Override
    public String toString() {
        return name;
    }
}
