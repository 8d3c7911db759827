package oneml.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
 * naming each tensor's dtype, shape and byte range, then the raw little-endian data.
 *
 * <p>Everything read is checked before it is trusted (header bounds, offsets inside the file, known
 * dtypes, byte counts matching shapes), so a corrupt or truncated file is a {@link BadFileException}
 * instead of a crash or an attempt to allocate gigabytes. Floating tensors are widened to float32 in
 * Java: libtorch on CPU is slow in half precision and BF16 arrays crash the JVM through DJL.
 */
public final class SafeTensors {
    /** Real headers are kilobytes; anything near this is corruption, not a model. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    /** More dimensions than any model has; bounds the work a hostile header can ask for. */
    static final int MAX_RANK = 32;

    private SafeTensors() {}

    /** One entry of a header, already validated against the file. */
    public record Entry(String name, StorageType type, long[] shape, long begin, long end) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** A parsed, validated header: tensor entries in file order, the metadata, and where data starts. */
    public record Header(Path file, Map<String, Entry> entries, Map<String, String> metadata, long dataStart) {}

    public static Header readHeader(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(file, ch);
        } catch (IOException e) {
            throw new BadFileException(file, "cannot read the safetensors file (" + JsonFiles.ioProblem(e) + ")", e);
        }
    }

    private static Header readHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new BadFileException(file, "not a safetensors file: " + size + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.flip().getLong();
        if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
            throw new BadFileException(file, "corrupt safetensors header length " + headerLen
                    + " (file is " + size + " bytes); the file is truncated or not safetensors");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
        readFully(ch, headerBuf, 8);
        String json = JsonFiles.utf8(headerBuf.array(), file, "safetensors header");
        JsonObject root = JsonFiles.parseObject(json, file, "safetensors header", true); // standard JSON, as the reference reader
        long dataStart = 8 + headerLen;
        long dataLen = size - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : root.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                if (e.getValue().isJsonObject()) {
                    e.getValue().getAsJsonObject().entrySet()
                            .forEach(m -> metadata.put(m.getKey(), m.getValue().isJsonPrimitive() ? m.getValue().getAsString() : m.getValue().toString()));
                } else if (!e.getValue().isJsonNull()) {
                    throw new BadFileException(file, "the safetensors header's __metadata__ must be an object of strings, got "
                            + JsonFields.show(e.getValue()));
                }
                continue;
            }
            entries.put(e.getKey(), parseEntry(file, e.getKey(), e.getValue(), dataLen));
        }
        return new Header(file, entries, metadata, dataStart);
    }

    private static Entry parseEntry(Path file, String name, JsonElement value, long dataLen) {
        try {
            return parseEntry(name, value, dataLen);
        } catch (IllegalArgumentException e) { // wrong JSON types, missing fields, impossible numbers
            String shown = name.length() <= 80 ? name : name.substring(0, 77) + "...";
            throw new BadFileException(file, "tensor '" + shown + "' in the safetensors header: " + e.getMessage()
                    + "; the file is corrupt or was not written as safetensors", e);
        }
    }

    private static Entry parseEntry(String name, JsonElement value, long dataLen) {
        if (!value.isJsonObject()) {
            throw new IllegalArgumentException("expected {\"dtype\": ..., \"shape\": [...], \"data_offsets\": [begin, end]}, got "
                    + JsonFields.show(value));
        }
        JsonObject o = value.getAsJsonObject();
        if (!JsonFields.has(o, "dtype")) {
            throw new IllegalArgumentException("the dtype is missing");
        }
        String dtypeName = JsonFields.stringValue(o.get("dtype"), "dtype");
        StorageType type = StorageType.fromHeader(dtypeName);
        if (type == null) {
            throw new IllegalArgumentException("unsupported dtype " + (dtypeName.length() <= 20 ? dtypeName : dtypeName.substring(0, 17) + "...")
                    + " (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
        }
        JsonElement shapeJson = o.get("shape");
        if (shapeJson == null || !shapeJson.isJsonArray()) {
            throw new IllegalArgumentException("shape must be a list of dimensions, got " + JsonFields.show(shapeJson));
        }
        if (shapeJson.getAsJsonArray().size() > MAX_RANK) {
            throw new IllegalArgumentException("shape has " + shapeJson.getAsJsonArray().size() + " dimensions (at most " + MAX_RANK + ")");
        }
        long[] shape = new long[shapeJson.getAsJsonArray().size()];
        boolean empty = false;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = JsonFields.longValue(shapeJson.getAsJsonArray().get(i), "shape dimension " + i);
            if (shape[i] < 0) {
                throw new IllegalArgumentException("shape " + JsonFields.show(shapeJson) + " has a negative dimension");
            }
            empty |= shape[i] == 0;
        }
        long count = empty ? 0 : 1;
        boolean overflow = false;
        for (int i = 0; i < shape.length && !empty && !overflow; i++) {
            overflow = count > Long.MAX_VALUE / 8 / shape[i]; // bytes = count * at most 8 must fit a long
            count *= shape[i];
        }
        JsonElement offsetsJson = o.get("data_offsets");
        if (offsetsJson == null || !offsetsJson.isJsonArray() || offsetsJson.getAsJsonArray().size() != 2) {
            throw new IllegalArgumentException("data_offsets must be [begin, end], got " + JsonFields.show(offsetsJson));
        }
        long begin = JsonFields.longValue(offsetsJson.getAsJsonArray().get(0), "data_offsets begin");
        long end = JsonFields.longValue(offsetsJson.getAsJsonArray().get(1), "data_offsets end");
        if (begin < 0 || end < begin || end > dataLen) {
            throw new IllegalArgumentException("data_offsets [" + begin + ", " + end + "] lie outside the " + dataLen + " data bytes (is the file truncated?)");
        }
        // a product that overflowed is far larger than any file, so it cannot match the offsets
        if (overflow || count * type.bytes() != end - begin) {
            throw new IllegalArgumentException("shape " + JsonFields.show(shapeJson) + " of " + type + " needs "
                    + (overflow ? "more than 2^63" : String.valueOf(count * type.bytes())) + " bytes but data_offsets span " + (end - begin) + " bytes");
        }
        return new Entry(name, type, shape, begin, end);
    }

    /** Reads every tensor; floating types become FLOAT32, integers INT64/INT32/INT8/UINT8, BOOL stays BOOL. */
    public static Map<String, NDArray> read(Path file, NDManager manager) {
        Header header = readHeader(file);
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (Entry e : header.entries().values()) {
                out.put(e.name(), readTensor(header, ch, e, manager));
            }
        } catch (IOException ex) {
            out.values().forEach(NDArray::close);
            throw new BadFileException(file, "cannot read tensor data (" + JsonFiles.ioProblem(ex) + ")", ex);
        } catch (RuntimeException ex) {
            out.values().forEach(NDArray::close);
            throw ex;
        }
        return out;
    }

    private static NDArray readTensor(Header header, FileChannel ch, Entry e, NDManager manager) throws IOException {
        long bytes = e.end() - e.begin();
        if (bytes > Integer.MAX_VALUE - 16) {
            throw new BadFileException(header.file(), "tensor '" + e.name() + "' is " + bytes
                    + " bytes; tensors over 2 GB are not supported, shard the checkpoint");
        }
        ByteBuffer raw = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, raw, header.dataStart() + e.begin());
        raw.flip();
        Shape shape = new Shape(e.shape());
        int n = Math.toIntExact(e.elementCount());
        switch (e.type()) {
            case F32: {
                float[] v = new float[n];
                raw.asFloatBuffer().get(v);
                return manager.create(v, shape);
            }
            case F64: {
                double[] d = new double[n];
                raw.asDoubleBuffer().get(d);
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (float) d[i];
                }
                return manager.create(v, shape);
            }
            case F16: case BF16: {
                float[] v = new float[n];
                var sb = raw.asShortBuffer();
                boolean bf = e.type() == StorageType.BF16;
                for (int i = 0; i < n; i++) {
                    short s = sb.get(i);
                    v[i] = bf ? HalfFloats.bf16ToFloat(s) : HalfFloats.f16ToFloat(s);
                }
                return manager.create(v, shape);
            }
            case I64: {
                long[] v = new long[n];
                raw.asLongBuffer().get(v);
                return manager.create(v, shape);
            }
            case I32: {
                int[] v = new int[n];
                raw.asIntBuffer().get(v);
                return manager.create(v, shape);
            }
            case I16: {
                int[] v = new int[n];
                var sb = raw.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    v[i] = sb.get(i);
                }
                return manager.create(v, shape);
            }
            case I8: {
                byte[] v = new byte[n];
                raw.get(v);
                return manager.create(ByteBuffer.wrap(v), shape, DataType.INT8);
            }
            case U8: {
                byte[] v = new byte[n];
                raw.get(v);
                return manager.create(ByteBuffer.wrap(v), shape, DataType.UINT8);
            }
            case BOOL: {
                byte[] v = new byte[n];
                raw.get(v);
                return manager.create(ByteBuffer.wrap(v), shape, DataType.BOOLEAN);
            }
            default:
                throw new IllegalStateException("unhandled " + e.type());
        }
    }

    /**
     * Writes tensors atomically (a temporary file beside the target, then a rename), storing floating
     * arrays as {@code floatType} (F32, F16 or BF16) and integer arrays in their own width.
     * Keys are written in sorted order, as the Python library does.
     */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata, StorageType floatType) {
        write(file, tensors, metadata, floatType, Map.of());
    }

    /**
     * As {@link #write(Path, Map, Map, StorageType)}, with {@code floatTypes} naming another storage type for some
     * floating tensors (a 4-bit checkpoint keeps its quantisation scales in F32 beside BF16 weights).
     */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata, StorageType floatType,
            Map<String, StorageType> floatTypes) {
        if (floatType != StorageType.F32 && floatType != StorageType.F16 && floatType != StorageType.BF16) {
            throw new IllegalArgumentException("floatType must be F32, F16 or BF16, not " + floatType);
        }
        Map<String, NDArray> sorted = new TreeMap<>(tensors);
        List<byte[]> blobs = new ArrayList<>();
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            header.put("__metadata__", new TreeMap<>(metadata));
        }
        long offset = 0;
        for (var e : sorted.entrySet()) {
            NDArray a = e.getValue();
            StorageType type = storageTypeFor(a.getDataType(), floatTypes.getOrDefault(e.getKey(), floatType), e.getKey());
            byte[] blob = encode(a, type);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", type.name());
            entry.put("shape", a.getShape().getShape());
            entry.put("data_offsets", new long[] {offset, offset + blob.length});
            header.put(e.getKey(), entry);
            offset += blob.length;
            blobs.add(blob);
        }
        byte[] headerBytes = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - (headerBytes.length % 8)) % 8; // keeps data 8-byte aligned, as the reference writer does
        byte[] padded = new byte[headerBytes.length + pad];
        System.arraycopy(headerBytes, 0, padded, 0, headerBytes.length);
        for (int i = headerBytes.length; i < padded.length; i++) {
            padded[i] = ' ';
        }
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length);
            out.write(len.array());
            out.write(padded);
            for (byte[] b : blobs) {
                out.write(b);
            }
        });
    }

    private static StorageType storageTypeFor(DataType dt, StorageType floatType, String name) {
        switch (dt) {
            case FLOAT32: case FLOAT64: case FLOAT16: case BFLOAT16: return floatType;
            case INT64: return StorageType.I64;
            case INT32: return StorageType.I32;
            case INT8: return StorageType.I8;
            case UINT8: return StorageType.U8;
            case BOOLEAN: return StorageType.BOOL;
            default: throw new IllegalArgumentException("tensor '" + name + "' has type " + dt + ", which safetensors writing does not support");
        }
    }

    private static byte[] encode(NDArray a, StorageType type) {
        long n = a.size();
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(n * type.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32: for (float f : a.toType(DataType.FLOAT32, false).toFloatArray()) buf.putFloat(f); break;
            case F16: for (float f : a.toType(DataType.FLOAT32, false).toFloatArray()) buf.putShort(HalfFloats.floatToF16(f)); break;
            case BF16: for (float f : a.toType(DataType.FLOAT32, false).toFloatArray()) buf.putShort(HalfFloats.floatToBf16(f)); break;
            case I64: for (long v : a.toLongArray()) buf.putLong(v); break;
            case I32: for (int v : a.toIntArray()) buf.putInt(v); break;
            case I8: case U8: case BOOL: buf.put(a.toByteArray()); break;
            default: throw new IllegalStateException("unhandled " + type);
        }
        return buf.array();
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new IOException("unexpected end of file at byte " + pos);
            }
            pos += r;
        }
    }

    /** Lists tensor names of a file without reading data (cheap: used for error messages and sharding). */
    public static List<String> names(Path file) {
        return new ArrayList<>(readHeader(file).entries().keySet());
    }

    static boolean exists(Path file) {
        return Files.isRegularFile(file);
    }
}
