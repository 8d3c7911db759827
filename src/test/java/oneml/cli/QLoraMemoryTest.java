package oneml.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * QLoRA's point: with weights dominating memory (d_model 768, short sequences), training needs less
 * than LoRA over a float32 base. Each run is its own JVM, measured by the kernel's RSS high-water mark.
 */
class QLoraMemoryTest {

    private static JsonObject measure(String method) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "-Xss4m", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "bench", "--child", "medium:" + method, "--steps", "3")).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("{")) {
                    last = line;
                }
            }
        }
        assertEquals(0, p.waitFor(), "bench child " + method);
        return JsonParser.parseString(last).getAsJsonObject();
    }

    @Test
    void qloraTrainsInLessMemoryThanLoraWhenWeightsDominate() throws Exception {
        JsonObject lora = measure("lora");
        JsonObject qlora = measure("qlora");
        double ratio = qlora.get("peak_mb").getAsDouble() / lora.get("peak_mb").getAsDouble();
        assertTrue(ratio < 0.9, "QLoRA peak " + qlora.get("peak_mb") + " MB vs LoRA " + lora.get("peak_mb") + " MB (ratio " + ratio + ")");
        assertTrue(qlora.get("model_mb").getAsDouble() < 0.6 * lora.get("model_mb").getAsDouble(), // the JVM heap counts in both
                "4-bit model " + qlora.get("model_mb") + " MB vs float32 " + lora.get("model_mb") + " MB");
    }
}
