package oneml.cli;

import static oneml.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import oneml.IA3Config;
import oneml.Models;
import oneml.Peft;
import oneml.TestPaths;
import oneml.cli.CliTest.Result;
import oneml.compare.Candidate;
import oneml.io.SafeTensors;
import oneml.io.StorageType;
import oneml.model.CausalLM;
import oneml.model.Engines;
import oneml.model.ModelConfig;
import oneml.peft.PeftModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line on non-Llama checkpoints: PEFT's per-type default targets, and generate's output. */
class ArchitectureCliTest {
    @TempDir
    Path tmp;

    /** A config as config.json would hold it. */
    private ModelConfig config(String json) throws Exception {
        Path file = Files.createTempFile(tmp, "config", ".json");
        Files.writeString(file, json);
        return ModelConfig.read(file);
    }

    /** A one-layer GPT-2 over the embedded model's word tokenizer, so the bundled tasks run on it. */
    private Path gpt2WithWordTokenizer() throws Exception {
        ModelConfig config = config("{\"model_type\": \"gpt2\", \"vocab_size\": 816, \"n_embd\": 32,"
                + " \"n_head\": 4, \"n_layer\": 1, \"n_positions\": 128, \"bos_token_id\": 1, \"eos_token_id\": 2}");
        Path dir = tmp.resolve("gpt2");
        try (CausalLM model = Models.random(config, 5)) {
            model.save(dir);
        }
        Files.copy(oneml.io.ProjectHome.find(Models.TINY_PATH).resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        return dir;
    }

    @Test
    void loraOnGpt2UsesPeftsGpt2Default() throws Exception {
        Path model = gpt2WithWordTokenizer();
        // ten rows of the bundled sentiment task as one file (split 8/1/1): the run is about the targets, not the data
        Path data = tmp.resolve("reviews.jsonl");
        Files.write(data, Files.readAllLines(oneml.io.ProjectHome.find("datasets/sentiment/test.jsonl")).subList(0, 10));
        Path lora = tmp.resolve("lora");
        Result r = run("train", "--model", model.toString(), "--method", "lora", "--data", data.toString(), "--steps", "1",
                "--batch-size", "4", "--eval-limit", "1", "--out", lora.toString());
        assertEquals(0, r.code(), r.output());
        assertEquals(List.of("c_attn"), targets(lora));
    }

    private static List<String> targets(Path adapter) throws Exception {
        var o = JsonParser.parseString(Files.readString(adapter.resolve("adapter_config.json"))).getAsJsonObject();
        return o.getAsJsonArray("target_modules").asList().stream().map(e -> e.getAsString()).toList();
    }

    @Test
    void compareAndConfigPresetsResolveTargetsFromTheModelsType() throws Exception {
        for (String method : new String[] {"lora", "dora", "qlora"}) {
            try (CausalLM gpt2 = Models.load(TestPaths.vectors("gpt2"))) {
                PeftModel peft = Peft.apply(gpt2, Candidate.preset(method).config());
                assertEquals(List.of("transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn"), wrapped(peft), method);
            }
        }
        try (CausalLM gpt2 = Models.load(TestPaths.vectors("gpt2"))) {
            PeftModel peft = Peft.apply(gpt2, Candidate.preset("ia3").config());
            assertEquals(List.of("transformer.h.0.attn.c_attn", "transformer.h.0.mlp.c_proj", "transformer.h.1.attn.c_attn",
                    "transformer.h.1.mlp.c_proj"), wrapped(peft));
            var saved = tmp.resolve("ia3");
            peft.save(saved);
            assertEquals(List.of("c_attn", "mlp.c_proj"), targets(saved));
        }
        ModelConfig qwen2 = config("{\"model_type\": \"qwen2\", \"vocab_size\": 97, \"hidden_size\": 32,"
                + " \"intermediate_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"num_key_value_heads\": 2}");
        try (CausalLM model = Models.random(qwen2, 1)) {
            PeftModel peft = Peft.apply(model, IA3Config.builder().build());
            // PEFT's IA3 mapping for qwen2 is q_proj, v_proj, down_proj (Llama's and Mistral's: k_proj, v_proj, down_proj)
            assertEquals(List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.0.mlp.down_proj"), wrapped(peft));
        }
    }

    /** Module paths a PEFT method wrapped. */
    private static List<String> wrapped(PeftModel peft) {
        return peft.model().linears().entrySet().stream().filter(e -> e.getValue() != e.getValue().base()).map(Map.Entry::getKey).toList();
    }

    /**
     * A byte-level BPE tokenizer (as GPT-2's) over letters and the space marker, and a GPT-2 that always picks "e":
     * its final LayerNorm outputs its bias whatever the input, and only the head's row for "e" matches it.
     */
    private Path gpt2ThatSaysE(boolean withTokenizer) throws Exception {
        StringBuilder vocab = new StringBuilder("\"<|endoftext|>\": 0, \"\\u0120\": 1");
        int id = 2;
        int e = -1;
        for (char c = 'a'; c <= 'z'; c++, id++) {
            vocab.append(", \"").append(c).append("\": ").append(id);
            e = c == 'e' ? id : e;
            vocab.append(", \"").append(Character.toUpperCase(c)).append("\": ").append(++id);
        }
        String tokenizer = "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null,"
                + " \"added_tokens\": [{\"id\": 0, \"content\": \"<|endoftext|>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false,"
                + " \"normalized\": false, \"special\": true}], \"normalizer\": null,"
                + " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true},"
                + " \"post_processor\": null, \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},"
                + " \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null,"
                + " \"end_of_word_suffix\": null, \"fuse_unk\": false, \"byte_fallback\": false, \"vocab\": {" + vocab + "}, \"merges\": []}}";
        ModelConfig config = config("{\"model_type\": \"gpt2\", \"vocab_size\": " + id + ", \"n_embd\": 32,"
                + " \"n_head\": 4, \"n_layer\": 1, \"n_positions\": 64, \"bos_token_id\": 0, \"eos_token_id\": 0, \"tie_word_embeddings\": false}");
        Path dir = tmp.resolve(withTokenizer ? "says-e" : "says-e-no-tokenizer");
        try (CausalLM model = Models.random(config, 5)) {
            model.save(dir);
        }
        Path weights = dir.resolve("model.safetensors");
        try (NDManager m = Engines.rootManager().newSubManager()) {
            Map<String, NDArray> state = new LinkedHashMap<>(SafeTensors.read(weights, m));
            float[] bias = new float[32];
            float[] head = new float[id * 32];
            for (int i = 0; i < 32; i++) {
                bias[i] = i % 2 == 0 ? 1f : -1f;
                head[e * 32 + i] = bias[i];
            }
            state.put("transformer.ln_f.weight", m.zeros(new ai.djl.ndarray.types.Shape(32)));
            state.put("transformer.ln_f.bias", m.create(bias));
            state.put(CausalLM.LM_HEAD, m.create(head, new ai.djl.ndarray.types.Shape(id, 32)));
            SafeTensors.write(weights, state, Map.of("format", "pt"), StorageType.F32);
        }
        Path tokenizerFile = withTokenizer ? dir.resolve("tokenizer.json") : tmp.resolve("elsewhere").resolve("tokenizer.json");
        Files.createDirectories(tokenizerFile.getParent());
        Files.writeString(tokenizerFile, tokenizer);
        return dir;
    }

    @Test
    void generatePrintsWhatTheTokensDecodeTo() throws Exception {
        Result r = run("generate", "--model", gpt2ThatSaysE(true).toString(), "--prompt", "The movie was", "--max-new-tokens", "2");
        assertEquals(0, r.code(), r.output());
        // the continuation starts inside the word: no space is inserted between prompt and continuation
        assertEquals("The movie wasee", r.output().strip(), r.output());
    }

    @Test
    void generateWithoutTokenizerSaysWhichFileAndHowToSupplyIt() throws Exception {
        Path dir = gpt2ThatSaysE(false);
        Result r = run("generate", "--model", dir.toString(), "--prompt", "The movie was");
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().startsWith("error: " + dir + " has no tokenizer.json") && r.output().contains("--tokenizer"), r.output());
        assertTrue(!r.output().contains("setTokenizer"), "no Java call for a command-line user: " + r.output());
        Path file = tmp.resolve("elsewhere").resolve("tokenizer.json");
        r = run("generate", "--model", dir.toString(), "--tokenizer", file.toString(), "--prompt", "The movie was", "--max-new-tokens", "1");
        assertEquals(0, r.code(), r.output());
        assertEquals("The movie wase", r.output().strip(), r.output());
    }
}
