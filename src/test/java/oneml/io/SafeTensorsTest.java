package oneml.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import oneml.model.Engines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Round trips in every float width, and every kind of broken file gives a clear error, not a crash. */
class SafeTensorsTest {
    @TempDir
    Path tmp;

    private static Path raw(Path file, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Files.write(file, b.array());
        return file;
    }

    @Test
    void roundTripsFloatAndIntegerTensors() {
        try (NDManager m = Engines.rootManager().newSubManager()) {
            NDArray f = m.create(new float[] {1.5f, -2.25f, 3e-3f, 65000f, 0f, -0f}, new Shape(2, 3));
            NDArray l = m.create(new long[] {1, -2, 3, 1L << 40}, new Shape(4));
            for (StorageType type : new StorageType[] {StorageType.F32, StorageType.F16, StorageType.BF16}) {
                Path file = tmp.resolve(type + ".safetensors");
                SafeTensors.write(file, Map.of("f", f, "l", l), Map.of("format", "pt"), type);
                Map<String, NDArray> back = SafeTensors.read(file, m);
                assertEquals(type, SafeTensors.readHeader(file).entries().get("f").type());
                assertEquals("pt", SafeTensors.readHeader(file).metadata().get("format"));
                assertEquals(new Shape(2, 3), back.get("f").getShape());
                float tolerance = type == StorageType.F32 ? 0f : type == StorageType.F16 ? 32f : 256f; // 65000 in bf16
                assertArrayEquals(f.toFloatArray(), back.get("f").toFloatArray(), tolerance);
                assertArrayEquals(l.toLongArray(), back.get("l").toLongArray());
            }
        }
    }

    @Test
    void corruptFilesNameTheFileAndTheProblem() throws IOException {
        byte[] eight = new byte[8];
        Path[] files = {
            raw(tmp.resolve("badjson.safetensors"), "{not json", eight),
            raw(tmp.resolve("dtype.safetensors"), "{\"x\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", eight),
            raw(tmp.resolve("range.safetensors"), "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", eight),
            raw(tmp.resolve("shape.safetensors"), "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", eight),
            raw(tmp.resolve("missing.safetensors"), "{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", eight),
            raw(tmp.resolve("overflow.safetensors"), "{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", eight),
        };
        String[] expected = {"not valid JSON", "unsupported dtype Q7", "outside the 8 data bytes", "span 8 bytes", "data_offsets", "more than 2^63"};
        try (NDManager m = Engines.rootManager().newSubManager()) {
            for (int i = 0; i < files.length; i++) {
                Path file = files[i];
                var e = assertThrows(BadFileException.class, () -> SafeTensors.read(file, m));
                assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
                assertTrue(e.getMessage().contains(expected[i]), e.getMessage());
            }
            Path huge = tmp.resolve("huge.safetensors");
            ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE / 2).putLong(0);
            Files.write(huge, b.array());
            assertTrue(assertThrows(BadFileException.class, () -> SafeTensors.read(huge, m)).getMessage().contains("header length"));
            Path tiny = Files.write(tmp.resolve("tiny.safetensors"), new byte[3]);
            assertTrue(assertThrows(BadFileException.class, () -> SafeTensors.read(tiny, m)).getMessage().contains("shorter than"));
        }
    }

    @Test
    void truncatedCheckpointIsAClearError() throws IOException {
        try (NDManager m = Engines.rootManager().newSubManager()) {
            Path file = tmp.resolve("full.safetensors");
            SafeTensors.write(file, Map.of("w", m.ones(new Shape(64, 64))), Map.of(), StorageType.F32);
            byte[] bytes = Files.readAllBytes(file);
            Path cut = Files.write(tmp.resolve("cut.safetensors"), java.util.Arrays.copyOf(bytes, bytes.length - 100));
            var e = assertThrows(BadFileException.class, () -> SafeTensors.read(cut, m));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void writesAreAtomic() throws IOException {
        Path file = tmp.resolve("a.txt");
        AtomicFiles.writeString(file, "old");
        assertThrows(RuntimeException.class, () -> AtomicFiles.write(file, out -> {
            out.write("new but broken".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(file));
        try (var listing = Files.list(tmp)) {
            assertEquals(1, listing.count(), "no temporary file is left behind");
        }
    }
}
