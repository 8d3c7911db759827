package oneml.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import oneml.Models;
import oneml.TestPaths;
import oneml.io.BadFileException;
import oneml.io.SafeTensors;
import oneml.io.StorageType;
import oneml.quant.BitsAndBytes;
import oneml.quant.QuantConfig;
import oneml.quant.QuantizedTensor;
import oneml.quant.Quantizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Hugging Face checkpoints saved by transformers in bitsandbytes' 4-bit layout: loaded straight into the 4-bit base
 * (no float32 linear weight is made), and saved back in the same layout byte for byte.
 */
class QuantizedCheckpointTest {
    @TempDir
    Path tmp;

    /** transformers' BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True).to_dict() */
    private static String quantizationConfig(String computeDtype) {
        return "{\"_load_in_4bit\": true, \"_load_in_8bit\": false, \"bnb_4bit_compute_dtype\": \"" + computeDtype + "\","
                + " \"bnb_4bit_quant_storage\": \"uint8\", \"bnb_4bit_quant_type\": \"nf4\", \"bnb_4bit_use_double_quant\": true,"
                + " \"llm_int8_enable_fp32_cpu_offload\": false, \"llm_int8_has_fp16_weight\": false, \"llm_int8_skip_modules\": null,"
                + " \"llm_int8_threshold\": 6.0, \"load_in_4bit\": true, \"load_in_8bit\": false, \"quant_method\": \"bitsandbytes\"}";
    }

    private static float[] logits(CausalLM model) {
        try (NDManager m = model.manager().newSubManager()) {
            NDArray ids = m.create(new long[] {5, 17, 3, 96, 40, 2, 11, 63, 7, 1}, new Shape(1, 10));
            return model.forward(ids).toFloatArray();
        }
    }

    /**
     * A checkpoint folder as transformers saves a 4-bit model: every linear weight quantised ([out, in], GPT-2's
     * Conv1D weights too) in Linear4bit's entries, the other weights as {@code storage}, the scales float32.
     */
    private Map<String, QuantizedTensor> writeBnbCheckpoint(String family, StorageType storage, String dtype, Path dir) throws Exception {
        Map<String, QuantizedTensor> quantized = new LinkedHashMap<>();
        Files.createDirectories(dir);
        try (CausalLM dense = Models.load(TestPaths.vectors(family)); NDManager m = dense.manager().newSubManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            Map<String, StorageType> float32 = new HashMap<>();
            for (var e : dense.stateDict().entrySet()) {
                String module = e.getKey().substring(0, e.getKey().length() - ".weight".length());
                if (e.getKey().endsWith(".weight") && dense.linears().containsKey(module)) {
                    QuantizedTensor q = Quantizer.quantize(e.getValue(), QuantConfig.qlora());
                    quantized.put(e.getKey(), q);
                    Map<String, NDArray> parts = BitsAndBytes.write(e.getKey(), q, dtype, m);
                    parts.keySet().forEach(k -> float32.put(k, StorageType.F32));
                    tensors.putAll(parts);
                } else {
                    tensors.put(e.getKey(), e.getValue());
                }
            }
            SafeTensors.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"), storage, float32);
        }
        JsonObject config = JsonParser.parseString(Files.readString(TestPaths.vectors(family).resolve("config.json"))).getAsJsonObject();
        config.add("quantization_config", JsonParser.parseString(quantizationConfig(dtype)));
        Files.writeString(dir.resolve("config.json"), config.toString());
        return quantized;
    }

    @ParameterizedTest
    @CsvSource({"llama, F32, float32", "llama, BF16, bfloat16", "gpt2, F32, float32", "gpt2, F16, float16"})
    void loadsStraightIntoThe4BitBaseAndSavesTheSameBytes(String family, StorageType storage, String dtype) throws Exception {
        Path source = tmp.resolve("bnb");
        Map<String, QuantizedTensor> written = writeBnbCheckpoint(family, storage, dtype, source);
        Path saved = tmp.resolve("saved");
        Path again = tmp.resolve("again");
        try (CausalLM model = Models.load(source)) {
            assertTrue(model.isQuantized());
            assertEquals(QuantConfig.qlora(), model.quantization().config());
            assertTrue(model.quantization().toString().contains("pre-quantised"), model.quantization().toString());
            for (var e : written.entrySet()) {
                Linear linear = model.linear(e.getKey().substring(0, e.getKey().length() - ".weight".length())).base();
                assertTrue(linear.isQuantized());
                assertEquals(e.getValue(), linear.quantizedTensor(), "codes and scales as in the file, bit for bit");
                assertFalse(model.stateDict().containsKey(e.getKey()), "no float32 copy of a 4-bit weight");
            }
            try (CausalLM dense = Models.load(TestPaths.vectors(family))) {
                assertEquals(dense.parameterCount(), model.parameterCount());
                if (storage == StorageType.F32) { // the same weights quantised in memory run the same forward pass
                    dense.quantize(QuantConfig.qlora());
                    assertArrayEquals(logits(dense), logits(model), 0f);
                }
            }
            Models.save(model, saved, storage);
        }
        assertArrayEquals(Files.readAllBytes(source.resolve("model.safetensors")), Files.readAllBytes(saved.resolve("model.safetensors")),
                "read and written again, the 4-bit checkpoint is byte-identical");
        JsonObject config = JsonParser.parseString(Files.readString(saved.resolve("config.json"))).getAsJsonObject();
        assertEquals(JsonParser.parseString(quantizationConfig(dtype)), config.get("quantization_config"));
        try (CausalLM model = Models.load(saved)) {
            Models.save(model, again, storage);
        }
        assertEquals(Files.readString(saved.resolve("config.json")), Files.readString(again.resolve("config.json")));
        assertArrayEquals(Files.readAllBytes(saved.resolve("model.safetensors")), Files.readAllBytes(again.resolve("model.safetensors")));
    }

    @Test
    void aModelQuantisedInMemorySavesAndReloadsIn4Bits() {
        Path dir = tmp.resolve("quantised");
        float[] expected;
        try (CausalLM model = Models.load(TestPaths.vectors("llama"))) {
            model.quantize(QuantConfig.nf4());
            expected = logits(model);
            model.save(dir);
        }
        var header = SafeTensors.readHeader(dir.resolve("model.safetensors"));
        String w = "model.layers.0.self_attn.q_proj.weight";
        assertEquals(StorageType.U8, header.entries().get(w).type());
        assertArrayEquals(new long[] {32 * 32 / 2, 1}, header.entries().get(w).shape());
        assertEquals(StorageType.F32, header.entries().get(w + ".absmax").type(), "no double quantisation: fp32 absmax");
        assertTrue(header.entries().containsKey(w + ".quant_state.bitsandbytes__nf4"));
        try (CausalLM reloaded = Models.load(dir)) {
            assertEquals(QuantConfig.nf4(), reloaded.quantization().config());
            assertArrayEquals(expected, logits(reloaded), 0f);
        }
    }

    @Test
    void fourBitWeightsAndConfigMustAgree() throws Exception {
        Path noConfig = tmp.resolve("no-config");
        writeBnbCheckpoint("llama", StorageType.F32, "float32", noConfig);
        Files.copy(TestPaths.vectors("llama").resolve("config.json"), noConfig.resolve("config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        var e = assertThrows(BadFileException.class, () -> Models.load(noConfig));
        assertTrue(e.getMessage().contains("quantization_config"), e.getMessage());

        Path dense = tmp.resolve("dense");
        Files.createDirectories(dense);
        Files.copy(TestPaths.vectors("llama").resolve("model.safetensors"), dense.resolve("model.safetensors"));
        JsonObject config = JsonParser.parseString(Files.readString(TestPaths.vectors("llama").resolve("config.json"))).getAsJsonObject();
        config.add("quantization_config", JsonParser.parseString(quantizationConfig("float32")));
        Files.writeString(dense.resolve("config.json"), config.toString());
        e = assertThrows(BadFileException.class, () -> Models.load(dense));
        assertTrue(e.getMessage().contains("quant_state"), e.getMessage());

        config.add("quantization_config", JsonParser.parseString("{\"load_in_8bit\": true, \"quant_method\": \"bitsandbytes\"}"));
        Files.writeString(dense.resolve("config.json"), config.toString());
        e = assertThrows(BadFileException.class, () -> Models.load(dense));
        assertTrue(e.getMessage().contains("8-bit"), e.getMessage());
    }
}
