package oneml.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import oneml.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken JSON files are described in the user's terms: the file, what is wrong, where, what to do; never Gson's words. */
class JsonFilesTest {
    @TempDir
    Path tmp;

    private static void assertPlain(String message) {
        for (String internal : new String[] {"Exception", "java.", "com.google", "LENIENT", "Strictness", "github.com"}) {
            assertFalse(message.contains(internal), "'" + internal + "' in: " + message);
        }
    }

    @Test
    void truncatedConfigJsonSaysItEndsEarlyAndWhere() throws IOException {
        Path config = Files.writeString(tmp.resolve("config.json"), "{\"model_type\": \"lla");
        String m = assertThrows(BadFileException.class, () -> ModelConfig.read(config)).getMessage();
        assertTrue(m.startsWith(config + ": the model config is not valid JSON: "), m);
        assertTrue(m.contains("line 1, column") && m.contains("fix the file"), m);
        assertPlain(m);
    }

    @Test
    void safetensorsHeaderThatIsNotJsonSaysSoWithoutGsonAdvice() throws IOException {
        byte[] header = "{\"x\": {dtype: F32}}".getBytes(StandardCharsets.UTF_8);
        Path file = tmp.resolve("model.safetensors");
        Files.write(file, ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).put(header).array());
        String m = assertThrows(BadFileException.class, () -> SafeTensors.readHeader(file)).getMessage();
        assertTrue(m.startsWith(file + ": the safetensors header is not valid JSON: "), m);
        assertTrue(m.contains("double quotes") && m.contains("line 1, column 9"), m);
        assertPlain(m);
    }

    @Test
    void typedFieldsNameTheFieldAndTheValue() {
        var o = JsonParser.parseString("{\"r\": \"8\", \"a\": 8.5, \"b\": 1e400, \"c\": 8.0, \"d\": 3000000000, \"e\": 1e999999999}").getAsJsonObject();
        assertEquals("field 'r' must be a whole number, got \"8\"", assertThrows(IllegalArgumentException.class, () -> JsonFields.integer(o, "r")).getMessage());
        assertEquals("field 'a' must be a whole number, got 8.5", assertThrows(IllegalArgumentException.class, () -> JsonFields.integer(o, "a")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JsonFields.number(o, "b", 0)).getMessage().contains("finite"));
        assertEquals(8, JsonFields.integer(o, "c"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JsonFields.integer(o, "d")).getMessage().contains("too large"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JsonFields.longValue(o.get("e"), "e")).getMessage().contains("out of range"));
        assertEquals(7, JsonFields.integer(o, "absent", 7));
    }

    @Test
    void echoedValuesAreCutToAReadableLength() {
        String m = new BadFileException(tmp.resolve("config.json"), "model_type '" + "x".repeat(5000) + "' is not supported").getMessage();
        assertTrue(m.length() < 300 && m.contains("xxx...") && m.endsWith(" is not supported"), m);
    }
}
