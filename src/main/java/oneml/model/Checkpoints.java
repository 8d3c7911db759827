package oneml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
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
import oneml.io.JsonFields;
import oneml.io.JsonFiles;
import oneml.io.SafeTensors;
import oneml.io.StorageType;
import oneml.quant.BitsAndBytes;
import oneml.quant.QuantConfig;
import oneml.quant.QuantizedTensor;

/** Loads and saves models in the Hugging Face folder layout, and builds freshly initialised ones. */
public final class Checkpoints {
    /** Where the embedded default model lives inside the project (found with {@link oneml.io.ProjectHome}). */
    public static final String TINY_PATH = "models/oneml-tiny";
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
        QuantConfig declared = declaredQuantization(configFile);
        NDManager manager = parent.newSubManager();
        try {
            Map<String, NDArray> raw = new LinkedHashMap<>();
            for (Path file : weightFiles(dir)) {
                raw.putAll(SafeTensors.read(file, manager));
            }
            Map<String, QuantizedTensor> quantized = takeQuantized(config, declared, raw, dir);
            Map<String, NDArray> state = normalise(config, raw, dir, quantized.keySet());
            CausalLM model = build(config, manager, state, quantized);
            try {
                model.adoptQuantization();
            } catch (IllegalArgumentException e) {
                throw new BadFileException(dir, e.getMessage(), e);
            }
            if (Files.isRegularFile(dir.resolve("tokenizer.json"))) {
                model.setTokenizer(TextTokenizer.load(dir));
            }
            return model;
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** The 4-bit storage config.json's quantization_config declares (bitsandbytes load_in_4bit), or null. */
    private static QuantConfig declaredQuantization(Path configFile) {
        JsonObject o = JsonFiles.readObject(configFile, "the model config", JsonFiles.SMALL_FILE_BYTES);
        try {
            return BitsAndBytes.fromQuantizationConfig(o.get("quantization_config"));
        } catch (BadFileException e) {
            throw e;
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new BadFileException(configFile, e.getMessage(), e);
        }
    }

    /**
     * Takes the bitsandbytes 4-bit weights out of {@code raw} (the packed codes and their state entries) and
     * assembles them, under the model's own names ([out, in] for GPT-2 too: transformers quantises Conv1D weights
     * transposed). A checkpoint with 4-bit weights that config.json does not declare, or the reverse, is an error.
     */
    private static Map<String, QuantizedTensor> takeQuantized(ModelConfig config, QuantConfig declared, Map<String, NDArray> raw, Path dir) {
        Map<String, QuantizedTensor> out = new LinkedHashMap<>();
        List<String> weights = new ArrayList<>();
        for (String key : raw.keySet()) {
            if (key.endsWith(".weight") && BitsAndBytes.isQuantized(key, raw)) {
                weights.add(key);
            }
        }
        if (declared == null) {
            if (!weights.isEmpty()) {
                throw new BadFileException(dir, "holds bitsandbytes 4-bit weights (" + weights.get(0) + " ...) but config.json has no"
                        + " quantization_config with load_in_4bit; add the quantization_config transformers saved with the model");
            }
            return out;
        }
        if (weights.isEmpty()) {
            throw new BadFileException(dir, "config.json declares a bitsandbytes 4-bit model (load_in_4bit) but no weight carries a"
                    + " quant_state; the weights are not in bitsandbytes' layout");
        }
        Map<String, Shape> expected = expectedShapes(config);
        for (String key : weights) {
            String name = modelName(config, key);
            QuantizedTensor q;
            try {
                q = BitsAndBytes.read(key, raw);
            } catch (IllegalArgumentException e) {
                throw new BadFileException(dir, e.getMessage(), e);
            }
            if (q.type() != declared.type()) {
                throw new BadFileException(dir, key + " is stored as " + q.type() + " but config.json's quantization_config says "
                        + declared.type());
            }
            Shape want = expected.get(name);
            if (want == null || !name.endsWith(".weight") || want.dimension() != 2) {
                throw new BadFileException(dir, "4-bit weight '" + name + "' is not a linear weight of this " + config.modelType() + " config");
            }
            if (!want.equals(new Shape(q.shape()))) {
                throw new BadFileException(dir, "4-bit weight '" + name + "' has shape " + new Shape(q.shape()) + " but config.json implies " + want);
            }
            for (String part : BitsAndBytes.keysOf(key, raw)) {
                raw.remove(part).close(); // the heap copy in q is what the model uploads
            }
            out.put(name, q);
        }
        return out;
    }

    /** A checkpoint name as the model holds it (GPT-2 gets its "transformer." prefix). */
    private static String modelName(ModelConfig config, String name) {
        if (config.family() == ModelConfig.Family.GPT2 && !name.startsWith("transformer.") && !name.startsWith("lm_head.")) {
            return "transformer." + name;
        }
        return name;
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
        JsonObject root = JsonFiles.readObject(index, "shard index", JsonFiles.SMALL_FILE_BYTES);
        if (!root.has("weight_map") || !root.get("weight_map").isJsonObject()) {
            throw new BadFileException(index, "the shard index has no \"weight_map\" object (tensor name -> shard file)");
        }
        Set<String> shards = new LinkedHashSet<>();
        for (var e : root.getAsJsonObject("weight_map").entrySet()) {
            try {
                shards.add(JsonFields.stringValue(e.getValue(), "the shard of '" + e.getKey() + "'"));
            } catch (IllegalArgumentException ex) {
                throw new BadFileException(index, ex.getMessage(), ex);
            }
        }
        List<Path> files = new ArrayList<>();
        for (String shard : shards) {
            Path f;
            try {
                f = dir.resolve(shard).normalize();
            } catch (java.nio.file.InvalidPathException ex) {
                throw new BadFileException(index, "lists shard '" + shard + "', which is not a valid file name");
            }
            if (!f.startsWith(dir.normalize()) || !Files.isRegularFile(f)) {
                throw new BadFileException(index, "lists shard '" + shard + "', which is not a file in " + dir);
            }
            files.add(f);
        }
        return files;
    }

    /**
     * Brings checkpoint names to the model's own (GPT-2 gets its "transformer." prefix), drops buffers that
     * are not weights, transposes Conv1D weights, and checks every name and shape against the config.
     */
    private static Map<String, NDArray> normalise(ModelConfig config, Map<String, NDArray> raw, Path dir, Set<String> quantized) {
        Map<String, Shape> expected = expectedShapes(config);
        Map<String, NDArray> state = new LinkedHashMap<>();
        List<String> unexpected = new ArrayList<>();
        NDArray tiedHead = null;
        for (var e : raw.entrySet()) {
            String name = modelName(config, e.getKey());
            NDArray a = e.getValue();
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
        missing.removeAll(quantized);
        if (!missing.isEmpty()) {
            throw new BadFileException(dir, "checkpoint lacks weights " + new ArrayList<>(missing).subList(0, Math.min(8, missing.size()))
                    + (missing.size() > 8 ? " ... (" + missing.size() + " in all)" : ""));
        }
        if (tiedHead != null) {
            warnIfUnused(config, tiedHead, state, dir);
            tiedHead.close();
        }
        Map<String, NDArray> ordered = new LinkedHashMap<>();
        expected.keySet().stream().filter(state::containsKey).forEach(k -> ordered.put(k, state.get(k)));
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

    /** torch's name of a float storage type, as bitsandbytes and transformers write it. */
    private static String torchName(StorageType type) {
        switch (type) {
            case F32: return "float32";
            case F16: return "float16";
            case BF16: return "bfloat16";
            default: throw new IllegalArgumentException("weights are stored as F32, F16 or BF16, not " + type);
        }
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
        return build(config, manager, state, Map.of());
    }

    private static CausalLM build(ModelConfig config, NDManager manager, Map<String, NDArray> state, Map<String, QuantizedTensor> quantized) {
        return config.family() == ModelConfig.Family.GPT2
                ? new Gpt2(config, manager, state, quantized) : new Llama(config, manager, state, quantized);
    }

    /**
     * Writes config.json and model.safetensors with floating weights as {@code type}. A 4-bit model is written as
     * transformers saves a bitsandbytes model: each quantised linear weight as its packed codes and quant state
     * ({@link BitsAndBytes}; the scales stay float32), and config.json with a {@code quantization_config}.
     */
    public static void save(CausalLM model, Path dir, StorageType type) {
        String config = model.config().toJson();
        try (NDManager scratch = model.manager().newSubManager()) {
            Map<String, NDArray> disk = model.diskStateDict(scratch);
            Map<String, StorageType> float32 = new java.util.HashMap<>();
            if (model.isQuantized()) {
                String dtype = torchName(type);
                for (LinearLayer l : model.linears().values()) {
                    Linear base = l.base();
                    if (base.isQuantized()) {
                        Map<String, NDArray> parts = BitsAndBytes.write(base.path() + ".weight", base.quantizedTensor(), dtype, scratch);
                        parts.keySet().forEach(k -> float32.put(k, StorageType.F32));
                        disk.putAll(parts);
                    }
                }
                JsonObject json = com.google.gson.JsonParser.parseString(config).getAsJsonObject();
                json.add("quantization_config", BitsAndBytes.quantizationConfig(model.quantization().config(), dtype));
                config = new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(json);
            }
            SafeTensors.write(dir.resolve("model.safetensors"), disk, Map.of("format", "pt"), type, float32);
        }
        AtomicFiles.writeString(dir.resolve("config.json"), config);
        if (model.hasTokenizer()) {
            Path source = model.tokenizer().file().toAbsolutePath();
            Path target = dir.resolve("tokenizer.json").toAbsolutePath();
            if (!source.equals(target)) {
                AtomicFiles.write(target, out -> Files.copy(source, out));
            }
        }
    }
}
