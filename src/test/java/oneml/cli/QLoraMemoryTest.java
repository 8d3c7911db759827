package oneml.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import org.junit.jupiter.api.Test;

/**
 * QLoRA's point: with weights dominating memory (d_model 768, short sequences), training needs less
 * than LoRA over a float32 base. Each run is its own JVM, measured by the kernel's RSS high-water mark.
 */
class QLoraMemoryTest {

    private static JsonObject measure(String method) throws Exception {
        return oneml.BenchRuns.measure("medium", method, 3);
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
