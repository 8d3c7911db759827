package oneml.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.Map;
import oneml.Models;
import oneml.TestPaths;
import oneml.io.SafeTensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hugging Face checkpoints give Hugging Face's numbers (float64 reference, atol 2e-5). */
class ReferenceVectorsTest {

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void logitsAndLossMatchTheReference(String family) {
        Path dir = TestPaths.vectors(family);
        try (CausalLM model = Models.load(dir); NDManager m = model.manager().newSubManager()) {
            NDArray ids = SafeTensors.read(dir.resolve("input_ids.safetensors"), m).get("input_ids");
            Map<String, NDArray> expected = SafeTensors.read(dir.resolve("expected_logits.safetensors"), m);
            NDArray logits = model.forward(ids);
            assertEquals(expected.get("logits").getShape(), logits.getShape());
            assertArrayEquals(expected.get("logits").toFloatArray(), logits.toFloatArray(), 2e-5f);
            float loss = CausalLM.causalLmLoss(logits, ids).getFloat();
            assertEquals(expected.get("loss").getFloat(0), loss, 2e-5f);
        }
    }
}
