package oneml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * One {@code oneml bench} measurement in a fresh JVM, as the bench itself takes them: memory tests need a
 * process of their own, because glibc keeps pages that earlier work in the same JVM freed, and a later
 * run reuses them without its RSS growing (by tens of megabytes, differently from run to run).
 */
public final class BenchRuns {
    private BenchRuns() {}

    /** The child's JSON (tokens_per_s, model_mb, peak_mb, ...) for {@code shape:method} over {@code steps} timed steps. */
    public static JsonObject measure(String shape, String method, int steps) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "-Xss4m", "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                oneml.cli.Main.class.getName(), "bench", "--child", shape + ":" + method, "--steps", String.valueOf(steps)))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("{")) {
                    last = line;
                }
            }
        }
        assertEquals(0, p.waitFor(), "bench child " + shape + ":" + method);
        assertNotNull(last, "bench child " + shape + ":" + method + " printed no result");
        return JsonParser.parseString(last).getAsJsonObject();
    }
}
