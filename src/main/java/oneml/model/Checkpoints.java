package oneml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import oneml.io.AtomicFiles;
import oneml.io.BadFileException;
import oneml.io.SafeTensors;
import oneml.io.StorageType;

/** Loads and saves models in the Hugging Face folder layout, and builds freshly initialised ones. */
public final class Checkpoints {
    private static final org.slf4j.Logger WARNINGS = org.slf4j.LoggerFactory.getLogger(Checkpoints.class);

    private Checkpoints() {}

    public static CausalLM load(Path dir, NDManager parent) {
        if (!Files.isDirectory(dir)) {
            throw new BadFileException(dir, "not a model folder (expected config.json and model.safetensors inside)");
        }
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new BadFileException(dir, "model folder has no config.json");
        }
        ModelConfig config = ModelConfig.read(configFile);
        NDManager manager = parent.newSubManager();
        try {
            Map<String, NDArray> raw = new LinkedHashMap<>();
            for (Path file : weightFiles(dir)) {
                raw.putAll(SafeTensors.read(file, manager));
            }
            Map<String, NDArray> state = normalise(config, raw, dir);
            CausalLM model = build(config, manager, state);
            if (Files.isRegularFile(dir.resolve("tokenizer.json"))) {
                model.setTokenizer(TextTokenizer.load(dir));
            }
            return model;
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** model.safetensors, or the shards listed by model.safetensors.index.json. */
    private static List<Path> weightFiles(Path dir) {
        Path single = dir.resolve("model.safetensors");
        if (Files.isRegularFile(single)) {
            return List.of(single);
        }
        Path index = dir.resolve("model.safetensors.index.json");
        if (!Files.isRegularFile(index)) {
            throw new BadFileException(dir, "model folder has neither model.safetensors nor model.safetensors.index.json"
                    + " (PyTorch .bin checkpoints are not read: convert them to safetensors)");
        }
        try {
            JsonObject map = JsonParser.parseString(Files.readString(index)).getAsJsonObject().getAsJsonObject("weight_map");
            Set<String> shards = new LinkedHashSet<>();
            map.entrySet().forEach(e -> shards.add(e.getValue().getAsString()));
            List<Path> files = new ArrayList<>();
            for (String shard : shards) {
                Path f = dir.resolve(shard).normalize();
                if (!f.startsWith(dir.normalize()) || !Files.isRegularFile(f)) {
                    throw new BadFileException(index, "lists shard '" + shard + "', which is not a file in " + dir);
                }
                files.add(f);
            }
            return files;
        } catch (IOException | RuntimeException e) {
            if (e instanceof BadFileException b) {
                throw b;
            }
            throw new BadFileException(index, "is not a valid shard index (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Brings checkpoint names to the model's own (GPT-2 gets its "transformer." prefix), drops buffers that
     * are not weights, transposes Conv1D weights, and checks every name and shape against the config.
     */
    private static Map<String, NDArray> normalise(ModelConfig config, Map<String, NDArray> raw, Path dir) {
        Map<String, Shape> expected = expectedShapes(config);
        Map<String, NDArray> state = new LinkedHashMap<>();
        List<String> unexpected = new ArrayList<>();
        NDArray tiedHead = null;
        for (var e : raw.entrySet()) {
            String name = e.getKey();
            NDArray a = e.getValue();
            if (config.family() == ModelConfig.Family.GPT2 && !name.startsWith("transformer.") && !name.startsWith("lm_head.")) {
                name = "transformer." + name;
            }
            if (name.endsWith(".attn.bias") && config.family() == ModelConfig.Family.GPT2 && a.getShape().dimension() == 4
                    || name.endsWith(".attn.masked_bias") || name.endsWith("rotary_emb.inv_freq")) {
                a.close(); // causal-mask buffers and rotary caches are not weights
                continue;
            }
            if (name.equals(CausalLM.LM_HEAD) && config.tieWordEmbeddings()) {
                tiedHead = a; // the head reads the embeddings; checked against them below, then dropped
                continue;
            }
            if (config.family() == ModelConfig.Family.GPT2 && Gpt2.isConv1dWeight(name)) {
                NDArray t = a.transpose().duplicate();
                a.close();
                a = t;
            }
            Shape want = expected.get(name);
            if (want == null) {
                unexpected.add(name);
                continue;
            }
            if (!want.equals(a.getShape())) {
                throw new BadFileException(dir, "weight '" + name + "' has shape " + a.getShape() + " but config.json implies " + want);
            }
            state.put(name, a);
        }
        if (!unexpected.isEmpty()) {
            throw new BadFileException(dir, "checkpoint has weights this " + config.modelType() + " config does not explain: "
                    + unexpected.subList(0, Math.min(8, unexpected.size())) + (unexpected.size() > 8 ? " ..." : ""));
        }
        Set<String> missing = new TreeSet<>(expected.keySet());
        missing.removeAll(state.keySet());
        if (!missing.isEmpty()) {
            throw new BadFileException(dir, "checkpoint lacks weights " + new ArrayList<>(missing).subList(0, Math.min(8, missing.size()))
                    + (missing.size() > 8 ? " ... (" + missing.size() + " in all)" : ""));
        }
        if (tiedHead != null) {
            warnIfUnused(config, tiedHead, state, dir);
            tiedHead.close();
        }
        Map<String, NDArray> ordered = new LinkedHashMap<>();
        expected.keySet().forEach(k -> ordered.put(k, state.get(k)));
        return ordered;
    }

    /**
     * A file's lm_head.weight under a config that ties the head to the embeddings is not used (Hugging Face ties it
     * after loading, so the embeddings win there too). A copy of the embeddings loses nothing; a different head
     * means the config and the weights disagree, often a config.json missing {@code "tie_word_embeddings": false}.
     */
    private static void warnIfUnused(ModelConfig config, NDArray head, Map<String, NDArray> state, Path dir) {
        NDArray embeddings = state.get(config.family() == ModelConfig.Family.GPT2 ? "transformer.wte.weight" : "model.embed_tokens.weight");
        if (embeddings != null && head.getShape().equals(embeddings.getShape()) && head.contentEquals(embeddings)) {
            return;
        }
        WARNINGS.warn("{}: the checkpoint's lm_head.weight is not used: config.json ties the head to the token embeddings"
                + " (tie_word_embeddings is true{}) and the file's head differs from them. If the model was trained with"
                + " its own head, set \"tie_word_embeddings\": false in config.json.", dir,
                config.family() == ModelConfig.Family.GPT2 ? ", GPT-2's default" : "");
    }

    /** Every weight of a model with this config, by its name, with the shape held in memory ([out, in]). */
    public static Map<String, Shape> expectedShapes(ModelConfig c) {
        Map<String, Shape> m = new LinkedHashMap<>();
        long h = c.hiddenSize();
        if (c.family() == ModelConfig.Family.GPT2) {
            m.put("transformer.wte.weight", new Shape(c.vocabSize(), h));
            m.put("transformer.wpe.weight", new Shape(c.maxPositions(), h));
            for (int i = 0; i < c.numLayers(); i++) {
                String p = "transformer.h." + i;
                m.put(p + ".ln_1.weight", new Shape(h));
                m.put(p + ".ln_1.bias", new Shape(h));
                m.put(p + ".attn.c_attn.weight", new Shape(3 * h, h));
                m.put(p + ".attn.c_attn.bias", new Shape(3 * h));
                m.put(p + ".attn.c_proj.weight", new Shape(h, h));
                m.put(p + ".attn.c_proj.bias", new Shape(h));
                m.put(p + ".ln_2.weight", new Shape(h));
                m.put(p + ".ln_2.bias", new Shape(h));
                m.put(p + ".mlp.c_fc.weight", new Shape(c.intermediateSize(), h));
                m.put(p + ".mlp.c_fc.bias", new Shape(c.intermediateSize()));
                m.put(p + ".mlp.c_proj.weight", new Shape(h, c.intermediateSize()));
                m.put(p + ".mlp.c_proj.bias", new Shape(h));
            }
            m.put("transformer.ln_f.weight", new Shape(h));
            m.put("transformer.ln_f.bias", new Shape(h));
            if (!c.tieWordEmbeddings()) {
                m.put(CausalLM.LM_HEAD, new Shape(c.vocabSize(), h));
            }
            return m;
        }
        long q = (long) c.numHeads() * c.headDim();
        long kv = c.kvDim();
        m.put("model.embed_tokens.weight", new Shape(c.vocabSize(), h));
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i;
            m.put(p + ".input_layernorm.weight", new Shape(h));
            m.put(p + ".self_attn.q_proj.weight", new Shape(q, h));
            m.put(p + ".self_attn.k_proj.weight", new Shape(kv, h));
            m.put(p + ".self_attn.v_proj.weight", new Shape(kv, h));
            if (c.qkvBias()) {
                m.put(p + ".self_attn.q_proj.bias", new Shape(q));
                m.put(p + ".self_attn.k_proj.bias", new Shape(kv));
                m.put(p + ".self_attn.v_proj.bias", new Shape(kv));
            }
            m.put(p + ".self_attn.o_proj.weight", new Shape(h, q));
            if (c.outputBias()) {
                m.put(p + ".self_attn.o_proj.bias", new Shape(h));
            }
            m.put(p + ".post_attention_layernorm.weight", new Shape(h));
            m.put(p + ".mlp.gate_proj.weight", new Shape(c.intermediateSize(), h));
            m.put(p + ".mlp.up_proj.weight", new Shape(c.intermediateSize(), h));
            m.put(p + ".mlp.down_proj.weight", new Shape(h, c.intermediateSize()));
            if (c.mlpBias()) {
                m.put(p + ".mlp.gate_proj.bias", new Shape(c.intermediateSize()));
                m.put(p + ".mlp.up_proj.bias", new Shape(c.intermediateSize()));
                m.put(p + ".mlp.down_proj.bias", new Shape(h));
            }
        }
        m.put("model.norm.weight", new Shape(h));
        if (!c.tieWordEmbeddings()) {
            m.put("lm_head.weight", new Shape(c.vocabSize(), h));
        }
        return m;
    }

    /** A model with GPT-style initialisation: N(0, 0.02) matrices, unit norms, zero biases; seeded. */
    public static CausalLM initialise(ModelConfig config, long seed, NDManager parent) {
        NDManager manager = parent.newSubManager();
        Random random = new Random(seed);
        Map<String, NDArray> state = new LinkedHashMap<>();
        for (var e : expectedShapes(config).entrySet()) {
            String name = e.getKey();
            Shape shape = e.getValue();
            float[] v = new float[(int) shape.size()];
            boolean norm = name.contains("norm") || name.contains(".ln_");
            if (norm && name.endsWith(".weight")) {
                java.util.Arrays.fill(v, 1f);
            } else if (!name.endsWith(".bias")) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (random.nextGaussian() * 0.02);
                }
            }
            state.put(name, manager.create(v, shape));
        }
        return build(config, manager, state);
    }

    private static CausalLM build(ModelConfig config, NDManager manager, Map<String, NDArray> state) {
        return config.family() == ModelConfig.Family.GPT2 ? new Gpt2(config, manager, state) : new Llama(config, manager, state);
    }

    public static void save(CausalLM model, Path dir, StorageType type) {
        if (model.isQuantized()) {
            throw new IllegalStateException("a 4-bit quantised model cannot be saved as a Hugging Face checkpoint; save the adapter"
                    + " and merge it into a full-precision copy of the base instead");
        }
        try (NDManager scratch = model.manager().newSubManager()) {
            Map<String, NDArray> disk = model.diskStateDict(scratch);
            SafeTensors.write(dir.resolve("model.safetensors"), disk, Map.of("format", "pt"), type);
        }
        AtomicFiles.writeString(dir.resolve("config.json"), model.config().toJson());
        if (model.hasTokenizer()) {
            Path source = model.tokenizer().file().toAbsolutePath();
            Path target = dir.resolve("tokenizer.json").toAbsolutePath();
            if (!source.equals(target)) {
                AtomicFiles.write(target, out -> Files.copy(source, out));
            }
        }
    }
}
