package oneml.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import oneml.model.Engines;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** bitsandbytes' saved 4-bit layout (Linear4bit state dict, packed quant state) and transformers' quantization_config. */
class BitsAndBytesTest {
    private static final String W = "model.layers.0.self_attn.q_proj.weight";

    @BeforeAll
    static void engine() {
        Engines.noGradInThisThread();
    }

    /** float32 bit patterns and Python's repr(float(x)) of each, printed by CPython 3 (struct.unpack('<f', ...)). */
    private static final Object[][] FLOAT32_REPRS = {
            {0x52e6b438L, "495433023488.0"},
            {0xf2a74de4L, "-6.62760456036263e+30"},
            {0x269e0d37L, "1.0967034258749122e-15"},
            {0x6513270eL, "4.3431769050439316e+22"},
            {0xa6a3a450L, "-1.1354934055735413e-15"},
            {0x0c5c7fd0L, "1.698664568576658e-31"},
            {0x128b2f33L, "8.783768771816667e-28"},
            {0xd23f0824L, "-205118832640.0"},
            {0x892f902bL, "-2.1132646219869452e-33"},
            {0x1818e811L, "1.9762703141930095e-24"},
            {0x5d9dc9f8L, "1.421236426644652e+18"},
            {0x9531985dL, "-3.5865058773343806e-26"},
            {0x0ed90475L, "5.3498922100273585e-30"},
            {0xe8e25d94L, "-8.551848294810499e+24"},
            {0x81e74ef5L, "-8.496929623342147e-38"},
            {0x36f675ccL, "7.345084668486379e-06"},
            {0x099950d8L, "3.690943528354532e-33"},
            {0x1600a35aL, "1.0391302321498053e-25"},
            {0x6f03675aL, "4.066748065899997e+28"},
            {0x6b0d549bL, "1.708580785955552e+26"},
            {0x11e20b8fL, "3.5663636449371536e-28"},
            {0x3d9c1724L, "0.07621601223945618"},
            {0x1738f7d9L, "5.976643424959491e-25"},
            {0x8d116eceL, "-4.481495100080557e-31"},
            {0x6cad4a26L, "1.675954583114704e+27"},
            {0x0f21ddb6L, "7.980612832139373e-30"},
            {0xd3ac94afL, "-1482457743360.0"},
            {0x90c192cfL, "-7.635127180726484e-29"},
            {0x1fb17c23L, "7.516778280611748e-20"},
            {0xf28c105dL, "-5.548503471127686e+30"},
            {0x39263059L, "0.000158490045578219"},
            {0xa170b338L, "-8.155235697706241e-19"},
            {0xa09f76b5L, "-2.701420144654573e-19"},
            {0x953f48f1L, "-3.862968344544906e-26"},
            {0xf29d0da9L, "-6.221524564165347e+30"},
            {0x0fd630f1L, "2.1120880758625525e-29"},
            {0x93bd04cfL, "-4.7715049187289875e-27"},
            {0x95e60af5L, "-9.291354734600717e-26"},
            {0x658cda14L, "8.314426737021247e+22"},
            {0x0cb1e29cL, "2.7407553569083065e-31"}
    };

    @Test
    void floatsAreWrittenAsPythonsReprWritesThem() {
        for (Object[] c : FLOAT32_REPRS) {
            float f = Float.intBitsToFloat((int) (long) (Long) c[0]);
            assertEquals(c[1], BitsAndBytes.pythonRepr(f), "bits " + Long.toHexString((Long) c[0]));
        }
        // doubles, as CPython 3 prints them: positional from 1e-4 up to below 1e16, scientific outside
        Object[][] doubles = {
            {0.1, "0.1"}, {1e-5, "1e-05"}, {1e16, "1e+16"}, {9999999999999998.0, "9999999999999998.0"},
            {0.30000000000000004, "0.30000000000000004"}, {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
            {1.5e-323, "1.5e-323"}, {(double) 0.1f, "0.10000000149011612"}, {(double) 1e-5f, "9.999999747378752e-06"},
            {(double) 0.0001f, "9.999999747378752e-05"}, {(double) 1234567.9f, "1234567.875"}, {-0.25, "-0.25"},
            {0.0, "0.0"}, {-0.0, "-0.0"}, {3.0, "3.0"}, {0.0001, "0.0001"}, {(double) 1e17f, "9.999999843067494e+16"},
        };
        for (Object[] c : doubles) {
            assertEquals(c[1], BitsAndBytes.pythonRepr((Double) c[0]));
        }
    }

    @Test
    void writesLinear4bitsStateDictLayout() {
        float[] values = QuantizerTest.gaussian(4 * 40, 0.02, 3);
        QuantizedTensor plain = Quantizer.quantize(values, new long[] {4, 40}, QuantConfig.nf4());
        // a double-quantised tensor with a chosen offset, so the JSON below can spell it as Python does
        byte[] codes = {0, 127, (byte) 255};
        Absmax dq = new Absmax.DoubleQuantized(codes, DynamicMap.signed(), new float[] {0.5f}, 0.1f, 256);
        QuantizedTensor nested = QuantizedTensor.of(new long[] {4, 40}, QuantType.NF4, 64, plain.packed(), dq);
        try (NDManager m = Engines.rootManager().newSubManager()) {
            Map<String, NDArray> parts = BitsAndBytes.write(W, nested, "bfloat16", m);
            assertEquals(Set.of(W, W + ".absmax", W + ".quant_map", W + ".nested_absmax", W + ".nested_quant_map",
                    W + ".quant_state.bitsandbytes__nf4"), parts.keySet());
            assertEquals(new Shape(80, 1), parts.get(W).getShape(), "packed codes: uint8 [n/2, 1]");
            assertEquals(DataType.UINT8, parts.get(W).getDataType());
            assertArrayEquals(plain.packed(), parts.get(W).toByteArray());
            assertEquals(DataType.UINT8, parts.get(W + ".absmax").getDataType(), "double quantised: 8-bit codes");
            assertArrayEquals(codes, parts.get(W + ".absmax").toByteArray());
            assertArrayEquals(new float[] {0.5f}, parts.get(W + ".nested_absmax").toFloatArray());
            assertArrayEquals(DynamicMap.signed(), parts.get(W + ".nested_quant_map").toFloatArray());
            // the NF4 table as bitsandbytes' get_4bit_type lists it
            assertArrayEquals(new float[] {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
                -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f,
                0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f,
                0.5626170039176941f, 0.7229568362236023f, 1.0f}, parts.get(W + ".quant_map").toFloatArray(), 0f);
            String state = new String(parts.get(W + ".quant_state.bitsandbytes__nf4").toByteArray(), StandardCharsets.UTF_8);
            assertEquals("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [4, 40],"
                    + " \"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": 0.10000000149011612}", state);
            assertEquals(nested, BitsAndBytes.read(W, parts));

            Map<String, NDArray> plainParts = BitsAndBytes.write(W, plain, "float32", m);
            assertEquals(Set.of(W, W + ".absmax", W + ".quant_map", W + ".quant_state.bitsandbytes__nf4"), plainParts.keySet());
            assertEquals(DataType.FLOAT32, plainParts.get(W + ".absmax").getDataType());
            assertEquals("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [4, 40]}",
                    new String(plainParts.get(W + ".quant_state.bitsandbytes__nf4").toByteArray(), StandardCharsets.UTF_8));
            assertEquals(plain, BitsAndBytes.read(W, plainParts));

            QuantizedTensor fp4 = Quantizer.quantize(values, new long[] {160}, QuantConfig.fp4().withDoubleQuant(true));
            Map<String, NDArray> fp4Parts = BitsAndBytes.write(W, fp4, "float16", m);
            assertTrue(fp4Parts.containsKey(W + ".quant_state.bitsandbytes__fp4"));
            assertEquals(fp4, BitsAndBytes.read(W, fp4Parts));
        }
    }

    @Test
    void partsThatDoNotFitAreClearErrors() {
        QuantizedTensor q = Quantizer.quantize(QuantizerTest.gaussian(128, 0.02, 5), new long[] {2, 64}, QuantConfig.qlora());
        try (NDManager m = Engines.rootManager().newSubManager()) {
            Map<String, NDArray> parts = new LinkedHashMap<>(BitsAndBytes.write(W, q, "float32", m));
            parts.put(W + ".quant_map", m.create(QuantType.FP4.codebook()));
            var e = assertThrows(IllegalArgumentException.class, () -> BitsAndBytes.read(W, parts));
            assertTrue(e.getMessage().contains("quant_map"), e.getMessage());

            Map<String, NDArray> noAbsmax = new LinkedHashMap<>(BitsAndBytes.write(W, q, "float32", m));
            noAbsmax.remove(W + ".absmax");
            e = assertThrows(IllegalArgumentException.class, () -> BitsAndBytes.read(W, noAbsmax));
            assertTrue(e.getMessage().contains(W + ".absmax"), e.getMessage());

            Map<String, NDArray> badShape = new LinkedHashMap<>(BitsAndBytes.write(W, q, "float32", m));
            byte[] json = "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [3, 64], \"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": 0.5}"
                    .getBytes(StandardCharsets.UTF_8);
            badShape.put(W + ".quant_state.bitsandbytes__nf4", m.create(java.nio.ByteBuffer.wrap(json), new Shape(json.length), DataType.UINT8));
            e = assertThrows(IllegalArgumentException.class, () -> BitsAndBytes.read(W, badShape));
            assertTrue(e.getMessage().contains("packed bytes"), e.getMessage());
        }
        assertTrue(BitsAndBytes.isStateKey(W + ".nested_quant_map"));
        assertTrue(BitsAndBytes.isStateKey(W + ".quant_state.bitsandbytes__fp4"));
        assertTrue(!BitsAndBytes.isStateKey(W));
    }

    @Test
    void readsTransformersQuantizationConfig() {
        String qlora = "{\"_load_in_4bit\": true, \"_load_in_8bit\": false, \"bnb_4bit_compute_dtype\": \"bfloat16\","
                + " \"bnb_4bit_quant_storage\": \"uint8\", \"bnb_4bit_quant_type\": \"nf4\", \"bnb_4bit_use_double_quant\": true,"
                + " \"llm_int8_enable_fp32_cpu_offload\": false, \"llm_int8_has_fp16_weight\": false, \"llm_int8_skip_modules\": null,"
                + " \"llm_int8_threshold\": 6.0, \"load_in_4bit\": true, \"load_in_8bit\": false, \"quant_method\": \"bitsandbytes\"}";
        assertEquals(QuantConfig.qlora(), BitsAndBytes.fromQuantizationConfig(JsonParser.parseString(qlora)));
        assertEquals(JsonParser.parseString(qlora), BitsAndBytes.quantizationConfig(QuantConfig.qlora(), "bfloat16"));
        // transformers' defaults: fp4, no double quantisation
        assertEquals(QuantConfig.fp4(), BitsAndBytes.fromQuantizationConfig(JsonParser.parseString("{\"load_in_4bit\": true}")));
        assertNull(BitsAndBytes.fromQuantizationConfig(null));
        var e = assertThrows(IllegalArgumentException.class, () -> BitsAndBytes.fromQuantizationConfig(
                JsonParser.parseString("{\"load_in_8bit\": true, \"quant_method\": \"bitsandbytes\"}")));
        assertTrue(e.getMessage().contains("8-bit"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BitsAndBytes.fromQuantizationConfig(
                JsonParser.parseString("{\"load_in_4bit\": true, \"bnb_4bit_quant_storage\": \"bfloat16\"}")));
        assertTrue(e.getMessage().contains("uint8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BitsAndBytes.fromQuantizationConfig(
                JsonParser.parseString("{\"quant_method\": \"awq\", \"bits\": 4}")));
        assertTrue(e.getMessage().contains("bitsandbytes"), e.getMessage());
    }
}
