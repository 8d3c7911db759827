package oneml.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Hugging Face checkpoints saved in bitsandbytes' 4-bit form: what {@code Linear4bit._save_to_state_dict} writes
 * for a weight, and the {@code quantization_config} of config.json that says a model is stored that way.
 *
 * <p>A weight {@code W} of shape [out, in] (GPT-2's Conv1D weights too: transformers quantises them transposed)
 * becomes these state-dict entries:
 * <ul>
 *   <li>{@code W.weight}: the packed codes, uint8 of shape [ceil(n/2), 1] (two 4-bit codes per byte, high nibble
 *       first, as {@link QuantizedTensor#packed()});
 *   <li>{@code W.weight.absmax}: float32 [blocks], or with double quantisation uint8 [blocks] (the 8-bit codes);
 *   <li>{@code W.weight.quant_map}: float32 [16], the 4-bit codebook;
 *   <li>with double quantisation {@code W.weight.nested_absmax} (float32 [blocks / 256]) and
 *       {@code W.weight.nested_quant_map} (float32 [256], the 8-bit dynamic map);
 *   <li>{@code W.weight.quant_state.bitsandbytes__nf4} (or {@code __fp4}): uint8, the UTF-8 bytes of
 *       {@code json.dumps} of the state's other fields in {@code QuantState.as_dict} order: quant_type, blocksize,
 *       dtype, shape, and with double quantisation nested_blocksize, nested_dtype, nested_offset.
 * </ul>
 * Reading takes the parts as they are (no float32 weight is ever made); writing produces the same bytes, so a
 * checkpoint read and written again is byte-identical.
 */
public final class BitsAndBytes {
    /** The key that follows a weight's name for its packed quantisation state, before the type ("nf4"/"fp4"). */
    public static final String QUANT_STATE = "quant_state.bitsandbytes__";
    private static final List<String> PARTS = List.of("absmax", "quant_map", "nested_absmax", "nested_quant_map");

    private BitsAndBytes() {}

    /** True for a state-dict key that belongs to a 4-bit weight's state (not the packed weight itself). */
    public static boolean isStateKey(String key) {
        if (key.contains(".weight." + QUANT_STATE)) {
            return true;
        }
        for (String part : PARTS) {
            if (key.endsWith(".weight." + part)) {
                return true;
            }
        }
        return false;
    }

    /** True when {@code tensors} hold {@code weightName} in 4-bit form (its packed quant state is there). */
    public static boolean isQuantized(String weightName, Map<String, NDArray> tensors) {
        return stateKey(weightName, tensors) != null;
    }

    private static String stateKey(String weightName, Map<String, NDArray> tensors) {
        for (QuantType t : QuantType.values()) {
            String key = weightName + "." + QUANT_STATE + t.name().toLowerCase(Locale.ROOT);
            if (tensors.containsKey(key)) {
                return key;
            }
        }
        return null;
    }

    /** The state-dict keys a 4-bit {@code weightName} occupies in {@code tensors} (the weight and its state). */
    public static List<String> keysOf(String weightName, Map<String, NDArray> tensors) {
        List<String> keys = new java.util.ArrayList<>();
        keys.add(weightName);
        for (String part : PARTS) {
            if (tensors.containsKey(weightName + "." + part)) {
                keys.add(weightName + "." + part);
            }
        }
        String state = stateKey(weightName, tensors);
        if (state != null) {
            keys.add(state);
        }
        return keys;
    }

    /**
     * Assembles the 4-bit weight {@code weightName} from its state-dict entries, checking every part against the
     * packed state (shape, sizes, codebook).
     *
     * @throws IllegalArgumentException naming the weight and what does not fit
     */
    public static QuantizedTensor read(String weightName, Map<String, NDArray> tensors) {
        String key = stateKey(weightName, tensors);
        if (key == null) {
            throw new IllegalArgumentException(weightName + " has no " + QUANT_STATE + "nf4 / fp4 entry: it is not a"
                    + " bitsandbytes 4-bit weight");
        }
        JsonObject state;
        try {
            state = JsonParser.parseString(new String(bytes(tensors.get(key)), StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(key + " does not hold the JSON of a bitsandbytes quant state (" + e.getMessage() + ")", e);
        }
        String name = weightName;
        QuantType type = quantType(string(state, "quant_type", key), key);
        if (!key.endsWith(type.name().toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException(key + " says quant_type " + type.name().toLowerCase(Locale.ROOT) + ", its name another");
        }
        int blocksize = integer(state, "blocksize", key);
        JsonElement shapeJson = state.get("shape");
        if (shapeJson == null || !shapeJson.isJsonArray()) {
            throw new IllegalArgumentException(key + " has no shape");
        }
        long[] shape = new long[shapeJson.getAsJsonArray().size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeJson.getAsJsonArray().get(i).getAsLong();
        }
        NDArray packedArray = require(tensors, name, name);
        if (packedArray.getDataType() != DataType.UINT8) {
            throw new IllegalArgumentException(name + " is stored as " + packedArray.getDataType() + "; oneml reads 4-bit weights"
                    + " packed in uint8 (bnb_4bit_quant_storage=uint8)");
        }
        float[] quantMap = floats(require(tensors, name + ".quant_map", name), name + ".quant_map");
        if (!Arrays.equals(quantMap, type.codebook())) {
            throw new IllegalArgumentException(name + ".quant_map is not bitsandbytes' " + type + " codebook "
                    + Arrays.toString(type.codebook()) + " but " + Arrays.toString(quantMap));
        }
        NDArray absmaxArray = require(tensors, name + ".absmax", name);
        Absmax absmax;
        if (tensors.containsKey(name + ".nested_absmax")) {
            if (absmaxArray.getDataType() != DataType.UINT8) {
                throw new IllegalArgumentException(name + ".absmax must be uint8 codes with double quantisation, got "
                        + absmaxArray.getDataType());
            }
            float[] absmax2 = floats(tensors.get(name + ".nested_absmax"), name + ".nested_absmax");
            float[] code = floats(require(tensors, name + ".nested_quant_map", name), name + ".nested_quant_map");
            int blocksize2 = integer(state, "nested_blocksize", key);
            if (!state.has("nested_offset")) {
                throw new IllegalArgumentException(key + " has nested_absmax beside it but no nested_offset");
            }
            float offset = (float) state.get("nested_offset").getAsDouble();
            absmax = new Absmax.DoubleQuantized(bytes(absmaxArray), code, absmax2, offset, blocksize2);
        } else {
            absmax = new Absmax.Plain(floats(absmaxArray, name + ".absmax"));
        }
        return QuantizedTensor.of(shape, type, blocksize, bytes(packedArray), absmax);
    }

    /**
     * The state-dict entries of a 4-bit weight, arrays owned by {@code scratch}.
     *
     * @param dtype the float type the weight had before quantising, as torch names it ("float32", "bfloat16",
     *     "float16"): bitsandbytes records it and dequantises to it
     */
    public static Map<String, NDArray> write(String weightName, QuantizedTensor q, String dtype, NDManager scratch) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        byte[] packed = q.packed();
        out.put(weightName, uint8(scratch, packed, new Shape(packed.length, 1)));
        StringBuilder json = new StringBuilder("{\"quant_type\": \"").append(q.type().name().toLowerCase(Locale.ROOT))
                .append("\", \"blocksize\": ").append(q.blocksize())
                .append(", \"dtype\": \"").append(dtype).append("\", \"shape\": [");
        long[] shape = q.shape();
        for (int i = 0; i < shape.length; i++) {
            json.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        json.append(']');
        if (q.absmax() instanceof Absmax.DoubleQuantized d) {
            byte[] codes = d.codes();
            out.put(weightName + ".absmax", uint8(scratch, codes, new Shape(codes.length)));
            out.put(weightName + ".nested_absmax", scratch.create(d.absmax2()));
            out.put(weightName + ".nested_quant_map", scratch.create(d.code()));
            json.append(", \"nested_blocksize\": ").append(d.blocksize()).append(", \"nested_dtype\": \"float32\"")
                    .append(", \"nested_offset\": ").append(pythonRepr(d.offset()));
        } else {
            out.put(weightName + ".absmax", scratch.create(((Absmax.Plain) q.absmax()).values()));
        }
        out.put(weightName + ".quant_map", scratch.create(q.type().codebook()));
        byte[] state = json.append('}').toString().getBytes(StandardCharsets.UTF_8);
        out.put(weightName + "." + QUANT_STATE + q.type().name().toLowerCase(Locale.ROOT), uint8(scratch, state, new Shape(state.length)));
        return out;
    }

    /**
     * The 4-bit storage a config.json's {@code quantization_config} declares (transformers' BitsAndBytesConfig with
     * {@code load_in_4bit}), or null when there is none. bitsandbytes' block sizes are not part of that config:
     * each weight's quant state carries its own, 64 unless changed.
     *
     * @throws IllegalArgumentException for quantisation oneml does not read (8-bit, other methods, other storage)
     */
    public static QuantConfig fromQuantizationConfig(JsonElement element) {
        if (element == null || element.isJsonNull()) {
            return null;
        }
        if (!element.isJsonObject()) {
            throw new IllegalArgumentException("quantization_config is not a JSON object: " + element);
        }
        JsonObject o = element.getAsJsonObject();
        String method = o.has("quant_method") && !o.get("quant_method").isJsonNull() ? o.get("quant_method").getAsString() : "bitsandbytes";
        if (!method.equals("bitsandbytes")) {
            throw new IllegalArgumentException("quantization_config has quant_method '" + method + "'; oneml loads bitsandbytes"
                    + " 4-bit checkpoints only (or save the model unquantised)");
        }
        if (flag(o, "load_in_8bit") || flag(o, "_load_in_8bit")) {
            throw new IllegalArgumentException("quantization_config has load_in_8bit: 8-bit (LLM.int8) checkpoints are not"
                    + " supported; use a 4-bit (load_in_4bit) or an unquantised checkpoint");
        }
        if (!flag(o, "load_in_4bit") && !flag(o, "_load_in_4bit")) {
            return null;
        }
        String storage = o.has("bnb_4bit_quant_storage") && !o.get("bnb_4bit_quant_storage").isJsonNull()
                ? o.get("bnb_4bit_quant_storage").getAsString() : "uint8";
        if (!storage.equals("uint8")) {
            throw new IllegalArgumentException("quantization_config has bnb_4bit_quant_storage '" + storage
                    + "'; oneml reads 4-bit weights packed in uint8 (the default)");
        }
        String type = o.has("bnb_4bit_quant_type") && !o.get("bnb_4bit_quant_type").isJsonNull()
                ? o.get("bnb_4bit_quant_type").getAsString() : "fp4";
        boolean doubleQuant = flag(o, "bnb_4bit_use_double_quant");
        return new QuantConfig(quantType(type, "quantization_config"), QuantConfig.DEFAULT_BLOCKSIZE, doubleQuant,
                QuantConfig.DEFAULT_DOUBLE_QUANT_BLOCKSIZE);
    }

    /** The {@code quantization_config} transformers writes for a 4-bit model (BitsAndBytesConfig.to_dict, keys sorted). */
    public static JsonObject quantizationConfig(QuantConfig config, String computeDtype) {
        JsonObject o = new JsonObject();
        o.addProperty("_load_in_4bit", true);
        o.addProperty("_load_in_8bit", false);
        o.addProperty("bnb_4bit_compute_dtype", computeDtype);
        o.addProperty("bnb_4bit_quant_storage", "uint8");
        o.addProperty("bnb_4bit_quant_type", config.type().name().toLowerCase(Locale.ROOT));
        o.addProperty("bnb_4bit_use_double_quant", config.doubleQuant());
        o.addProperty("llm_int8_enable_fp32_cpu_offload", false);
        o.addProperty("llm_int8_has_fp16_weight", false);
        o.add("llm_int8_skip_modules", null);
        o.addProperty("llm_int8_threshold", 6.0);
        o.addProperty("load_in_4bit", true);
        o.addProperty("load_in_8bit", false);
        o.addProperty("quant_method", "bitsandbytes");
        return o;
    }

    /**
     * A float as Python's {@code repr} (and so {@code json.dumps}) writes it: the shortest digits that read back
     * to the same double, nearest to it when several do; positional for decimal exponents -4 to 15, otherwise
     * {@code d.ddde-XX}. bitsandbytes writes {@code nested_offset} this way ({@code offset.item()}, a float32
     * widened to double).
     */
    static String pythonRepr(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "Infinity" : "-Infinity";
        }
        if (v == 0) {
            return 1 / v < 0 ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(Math.abs(v));
        BigDecimal best = null;
        for (int p = 1; p <= 17 && best == null; p++) {
            for (RoundingMode mode : new RoundingMode[] {RoundingMode.FLOOR, RoundingMode.CEILING}) {
                BigDecimal candidate = exact.round(new MathContext(p, mode));
                if (candidate.doubleValue() == Math.abs(v) && (best == null
                        || candidate.subtract(exact).abs().compareTo(best.subtract(exact).abs()) < 0)) {
                    best = candidate;
                }
            }
        }
        best = best.stripTrailingZeros();
        String digits = best.unscaledValue().toString();
        int decimalPoint = digits.length() - best.scale(); // value = 0.digits * 10^decimalPoint
        StringBuilder s = new StringBuilder(v < 0 ? "-" : "");
        if (decimalPoint < -3 || decimalPoint > 16) {
            s.append(digits.charAt(0));
            if (digits.length() > 1) {
                s.append('.').append(digits, 1, digits.length());
            }
            int exponent = decimalPoint - 1;
            s.append('e').append(exponent < 0 ? '-' : '+');
            String e = Integer.toString(Math.abs(exponent));
            s.append(e.length() < 2 ? "0" : "").append(e);
        } else if (decimalPoint <= 0) {
            s.append("0.").append("0".repeat(-decimalPoint)).append(digits);
        } else if (decimalPoint >= digits.length()) {
            s.append(digits).append("0".repeat(decimalPoint - digits.length())).append(".0");
        } else {
            s.append(digits, 0, decimalPoint).append('.').append(digits, decimalPoint, digits.length());
        }
        return s.toString();
    }

    private static boolean flag(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() && o.get(key).getAsBoolean();
    }

    private static QuantType quantType(String name, String where) {
        try {
            return QuantType.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + " has 4-bit type '" + name + "'; oneml reads nf4 and fp4");
        }
    }

    private static String string(JsonObject o, String key, String where) {
        if (!o.has(key) || o.get(key).isJsonNull()) {
            throw new IllegalArgumentException(where + " lacks " + key);
        }
        return o.get(key).getAsString();
    }

    private static int integer(JsonObject o, String key, String where) {
        if (!o.has(key) || o.get(key).isJsonNull()) {
            throw new IllegalArgumentException(where + " lacks " + key);
        }
        return o.get(key).getAsInt();
    }

    private static NDArray require(Map<String, NDArray> tensors, String key, String weight) {
        NDArray a = tensors.get(key);
        if (a == null) {
            throw new IllegalArgumentException("the 4-bit weight " + weight + " lacks its entry " + key);
        }
        return a;
    }

    private static byte[] bytes(NDArray a) {
        if (a.getDataType() != DataType.UINT8 && a.getDataType() != DataType.INT8) {
            throw new IllegalArgumentException("expected a uint8 tensor, got " + a.getDataType() + " " + a.getShape());
        }
        return a.toByteArray();
    }

    private static float[] floats(NDArray a, String key) {
        if (a.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException(key + " must be float32, got " + a.getDataType());
        }
        return a.toFloatArray();
    }

    private static NDArray uint8(NDManager manager, byte[] bytes, Shape shape) {
        return manager.create(ByteBuffer.wrap(bytes), shape, DataType.UINT8);
    }
}
