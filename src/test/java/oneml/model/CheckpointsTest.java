package oneml.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import oneml.Models;
import oneml.TestPaths;
import oneml.io.BadFileException;
import oneml.io.SafeTensors;
import oneml.io.StorageType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Saving and loading models in Hugging Face layout: float widths, shards, bad folders. */
class CheckpointsTest {
    @TempDir
    Path tmp;

    private static float[] logits(CausalLM model) {
        try (NDManager m = model.manager().newSubManager()) {
            NDArray ids = m.create(new long[] {5, 17, 3, 96, 40, 2, 11, 63, 7, 1}, new Shape(1, 10));
            return model.forward(ids).toFloatArray();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama"})
    void savedCheckpointsReloadToTheSameLogits(String family) {
        float[] reference;
        try (CausalLM model = Models.load(TestPaths.vectors(family))) {
            reference = logits(model);
            for (StorageType type : new StorageType[] {StorageType.F32, StorageType.F16, StorageType.BF16}) {
                Models.save(model, tmp.resolve(family + "-" + type), type);
            }
        }
        for (StorageType type : new StorageType[] {StorageType.F32, StorageType.F16, StorageType.BF16}) {
            Path dir = tmp.resolve(family + "-" + type);
            assertEquals(type, SafeTensors.readHeader(dir.resolve("model.safetensors")).entries().values().iterator().next().type());
            try (CausalLM reloaded = Models.load(dir)) {
                float[] got = logits(reloaded);
                // F32 is exact; the 16-bit formats round weights (relative 2^-11 and 2^-8) and the logits of these
                // tiny random models move by up to ~0.003 (F16) and ~0.03 (BF16)
                float tolerance = type == StorageType.F32 ? 0f : type == StorageType.F16 ? 1e-2f : 6e-2f;
                assertArrayEquals(reference, got, tolerance, type.toString());
                // saving the reloaded model in the same width is lossless: the same logits exactly
                Path again = tmp.resolve(family + "-" + type + "-again");
                Models.save(reloaded, again, type);
                try (CausalLM twice = Models.load(again)) {
                    assertArrayEquals(got, logits(twice), 0f);
                }
            }
        }
    }

    @Test
    void gpt2KeepsHuggingFaceKeysAndConv1dLayoutOnDisk() {
        try (CausalLM model = Models.load(TestPaths.vectors("gpt2"))) {
            Path dir = tmp.resolve("gpt2");
            model.save(dir);
            var entries = SafeTensors.readHeader(dir.resolve("model.safetensors")).entries();
            assertArrayEquals(new long[] {32, 96}, entries.get("transformer.h.0.attn.c_attn.weight").shape());
            assertTrue(model.moduleNames().contains("transformer.h.1.mlp.c_fc"));
        }
    }

    @Test
    void shardedCheckpointsLoad() throws Exception {
        Path dir = tmp.resolve("sharded");
        Files.createDirectories(dir);
        Path source = TestPaths.vectors("llama");
        Files.copy(source.resolve("config.json"), dir.resolve("config.json"));
        try (NDManager m = Engines.rootManager().newSubManager()) {
            Map<String, NDArray> all = SafeTensors.read(source.resolve("model.safetensors"), m);
            Map<String, NDArray> first = new LinkedHashMap<>();
            Map<String, NDArray> second = new LinkedHashMap<>();
            StringBuilder index = new StringBuilder("{\"metadata\":{},\"weight_map\":{");
            int i = 0;
            for (var e : all.entrySet()) {
                boolean one = i++ % 2 == 0;
                (one ? first : second).put(e.getKey(), e.getValue());
                index.append(i > 1 ? "," : "").append('"').append(e.getKey()).append("\":\"")
                        .append(one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors").append('"');
            }
            SafeTensors.write(dir.resolve("model-00001-of-00002.safetensors"), first, Map.of(), StorageType.BF16);
            SafeTensors.write(dir.resolve("model-00002-of-00002.safetensors"), second, Map.of(), StorageType.F32);
            Files.writeString(dir.resolve("model.safetensors.index.json"), index.append("}}").toString());
        }
        try (CausalLM sharded = Models.load(dir); CausalLM original = Models.load(source)) {
            assertArrayEquals(logits(original), logits(sharded), 2e-2f);
        }
    }

    @Test
    void badFoldersAreClearErrors() throws Exception {
        assertTrue(assertThrows(BadFileException.class, () -> Models.load(tmp.resolve("nothing"))).getMessage().contains("not a model folder"));
        Path noWeights = Files.createDirectories(tmp.resolve("noweights"));
        Files.copy(TestPaths.vectors("llama").resolve("config.json"), noWeights.resolve("config.json"));
        assertTrue(assertThrows(BadFileException.class, () -> Models.load(noWeights)).getMessage().contains("neither model.safetensors"));

        Path wrongShape = Files.createDirectories(tmp.resolve("wrongshape"));
        Files.writeString(wrongShape.resolve("config.json"), Files.readString(TestPaths.vectors("llama").resolve("config.json"))
                .replace("\"intermediate_size\": 64", "\"intermediate_size\": 48"));
        Files.copy(TestPaths.vectors("llama").resolve("model.safetensors"), wrongShape.resolve("model.safetensors"));
        var e = assertThrows(BadFileException.class, () -> Models.load(wrongShape));
        assertTrue(e.getMessage().contains("mlp") && e.getMessage().contains("config.json implies"), e.getMessage());

        Path badType = Files.createDirectories(tmp.resolve("badtype"));
        Files.writeString(badType.resolve("config.json"), "{\"model_type\": \"bert\"}");
        assertTrue(assertThrows(BadFileException.class, () -> Models.load(badType)).getMessage().contains("model_type 'bert' is not supported"));
    }

    @Test
    void kvCacheGenerationMatchesFullRecomputation() {
        try (CausalLM model = Models.load(TestPaths.vectors("llama")); NDManager m = model.manager().newSubManager()) {
            long[] prompt = {5, 17, 3};
            long[] cached = Generator.generate(model, prompt, GenerationConfig.greedy(12));
            // the same greedy decode without a cache: run the whole sequence each time
            long[] seq = prompt.clone();
            for (int i = 0; i < cached.length; i++) {
                NDArray logits = model.forward(m.create(seq, new Shape(1, seq.length)));
                float[] last = logits.get(new ai.djl.ndarray.index.NDIndex("0, -1, :")).toFloatArray();
                long next = Generator.pick(last, GenerationConfig.greedy(1), new java.util.Random());
                assertEquals(next, cached[i], "token " + i);
                seq = java.util.Arrays.copyOf(seq, seq.length + 1);
                seq[seq.length - 1] = next;
            }
            long[] sampledA = Generator.generate(model, prompt, GenerationConfig.sampling(8, 0.8, 10, 3));
            long[] sampledB = Generator.generate(model, prompt, GenerationConfig.sampling(8, 0.8, 10, 3));
            assertArrayEquals(sampledA, sampledB, "sampling is seeded");
        }
    }
}
