package oneml.fuzz;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A small seeded mutational fuzzer: each input is a corpus file with one to four mutations, chosen among byte
 * flips, byte sets, insertions of tokens that break parsers (quotes, brackets, huge and negative numbers, NaN),
 * deletions, duplications, truncations, splices with another corpus file, and mutations that understand the
 * format: a JSON value somewhere in the tree changes type or becomes a huge, negative, fractional or NaN number,
 * a key disappears or changes; a safetensors header is mutated as JSON and its length prefix rewritten so the
 * mutation reaches the header reader; a JSON Lines file has one line mutated as JSON, or lines dropped or repeated.
 * The same seed gives the same inputs on every machine.
 */
public final class Fuzzer {
    /** How the bytes are structured, which decides the format-aware mutations. */
    public enum Format { TEXT, JSON, JSON_LINES, CSV, SAFETENSORS }

    private static final Gson WRITER = new GsonBuilder().serializeSpecialFloatingPointValues().disableHtmlEscaping().create();

    private static final String[] TOKENS = {
        "\"", "{", "}", "[", "]", ",", ":", "\n", "\r\n", "\\", "\\u", "\u0000", "-1", "0", "-0", "1e400", "-1e400", "NaN",
        "Infinity", "2147483648", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1.5", "null",
        "true", "\"\"", "[]", "{}", "%", "*", "**", "?", "..", "/", ":::", "<", ">", "</", "<!DOCTYPE x>", "&amp;", "&x;",
        "\u00e9", "\uD83D\uDE00", "\u2028", "\t", " ", "'", "#", "//", "/*", "${x}", "[1.0,)",
    };

    private static final JsonElement[] VALUES = {
        new JsonPrimitive(-1), new JsonPrimitive(0), new JsonPrimitive(1), new JsonPrimitive(2147483648L),
        new JsonPrimitive(Long.MAX_VALUE), new JsonPrimitive(Long.MIN_VALUE), new JsonPrimitive(new BigDecimal("9223372036854775808")),
        new JsonPrimitive(new BigDecimal("1e400")), new JsonPrimitive(new BigDecimal("-1e400")), new JsonPrimitive(new BigDecimal("1e-400")),
        new JsonPrimitive(1.5), new JsonPrimitive(-0.0), new JsonPrimitive(Double.NaN), new JsonPrimitive(Double.POSITIVE_INFINITY),
        new JsonPrimitive(""), new JsonPrimitive("8"), new JsonPrimitive("x".repeat(2000)), new JsonPrimitive("\u0000\n\""),
        new JsonPrimitive(true), new JsonPrimitive(false), JsonNull.INSTANCE, new JsonArray(), new JsonObject(),
    };

    private final Random random;
    private final List<byte[]> corpus;
    private final Format format;

    public Fuzzer(long seed, List<byte[]> corpus, Format format) {
        if (corpus.isEmpty()) {
            throw new IllegalArgumentException("the fuzzer needs at least one corpus file");
        }
        this.random = new Random(seed);
        this.corpus = corpus;
        this.format = format;
    }

    /** The next mutated input. */
    public byte[] next() {
        byte[] data = pick().clone();
        int mutations = 1 + random.nextInt(4);
        for (int i = 0; i < mutations; i++) {
            data = mutate(data);
        }
        return data;
    }

    private byte[] pick() {
        return corpus.get(random.nextInt(corpus.size()));
    }

    private byte[] mutate(byte[] data) {
        int choice = random.nextInt(format == Format.TEXT ? 8 : 11);
        if (data.length == 0 && choice < 7) {
            return insert(data, 0, token());
        }
        switch (choice) {
            case 0: { // flip a bit
                byte[] out = data.clone();
                int at = random.nextInt(out.length);
                out[at] ^= (byte) (1 << random.nextInt(8));
                return out;
            }
            case 1: { // set a byte to one that matters to parsers
                byte[] out = data.clone();
                byte[] special = {0, (byte) 0xff, (byte) 0x80, (byte) 0xc3, '"', '{', '}', '[', ']', ',', ':', '\n', '\\', '-', '9'};
                out[random.nextInt(out.length)] = random.nextBoolean() ? special[random.nextInt(special.length)] : (byte) random.nextInt(256);
                return out;
            }
            case 2:
            case 3:
                return insert(data, random.nextInt(data.length + 1), token());
            case 4: { // delete a range
                int from = random.nextInt(data.length);
                int len = 1 + random.nextInt(Math.min(data.length - from, 1 + random.nextInt(64)));
                byte[] out = new byte[data.length - len];
                System.arraycopy(data, 0, out, 0, from);
                System.arraycopy(data, from + len, out, from, data.length - from - len);
                return out;
            }
            case 5: { // repeat a range
                int from = random.nextInt(data.length);
                int len = 1 + random.nextInt(Math.min(data.length - from, 1 + random.nextInt(64)));
                return insert(data, from, Arrays.copyOfRange(data, from, from + len));
            }
            case 6: // truncate
                return Arrays.copyOf(data, random.nextInt(data.length));
            case 7: { // splice: this input's head, another corpus file's tail
                byte[] other = pick();
                int cut = random.nextInt(data.length + 1);
                int otherCut = other.length == 0 ? 0 : random.nextInt(other.length);
                byte[] out = Arrays.copyOf(data, cut + other.length - otherCut);
                System.arraycopy(other, otherCut, out, cut, other.length - otherCut);
                return out;
            }
            default:
                return structured(data);
        }
    }

    private byte[] structured(byte[] data) {
        switch (format) {
            case JSON:
                return mutateJson(data);
            case JSON_LINES: {
                List<String> lines = new ArrayList<>(Arrays.asList(new String(data, StandardCharsets.UTF_8).split("\n", -1)));
                int at = random.nextInt(lines.size());
                switch (random.nextInt(4)) {
                    case 0: lines.remove(at); break;
                    case 1: lines.add(at, lines.get(at)); break;
                    default: lines.set(at, new String(mutateJson(lines.get(at).getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8));
                }
                return String.join("\n", lines).getBytes(StandardCharsets.UTF_8);
            }
            case CSV: {
                String[] csv = {",", "\"", "\"\"", "\n", "\r", ",,,,", "\"a\nb\"", "prompt", "response", "text", "\uFEFF"};
                return insert(data, random.nextInt(data.length + 1), csv[random.nextInt(csv.length)].getBytes(StandardCharsets.UTF_8));
            }
            case SAFETENSORS:
                return mutateSafetensors(data);
            default:
                return insert(data, random.nextInt(data.length + 1), token());
        }
    }

    /** Mutates the JSON header and (mostly) writes the true new length, so the mutation reaches the entry checks. */
    private byte[] mutateSafetensors(byte[] data) {
        if (data.length < 8) {
            return insert(data, data.length, token());
        }
        long len = ByteBuffer.wrap(data, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (random.nextInt(8) == 0) { // a length prefix that lies
            long[] lies = {0, -1, len + 1, len - 1, Long.MAX_VALUE, Integer.MAX_VALUE, data.length, data.length - 7};
            byte[] out = data.clone();
            ByteBuffer.wrap(out, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(lies[random.nextInt(lies.length)]);
            return out;
        }
        if (len <= 0 || len > data.length - 8) {
            return data;
        }
        byte[] header = Arrays.copyOfRange(data, 8, 8 + (int) len);
        byte[] body = Arrays.copyOfRange(data, 8 + (int) len, data.length);
        if (random.nextInt(4) == 0) { // grow or shrink the data after the header
            body = random.nextBoolean() ? Arrays.copyOf(body, random.nextInt(body.length + 1)) : Arrays.copyOf(body, body.length + 1 + random.nextInt(16));
        }
        byte[] newHeader = mutateJson(header);
        ByteBuffer out = ByteBuffer.allocate(8 + newHeader.length + body.length).order(ByteOrder.LITTLE_ENDIAN);
        return out.putLong(newHeader.length).put(newHeader).put(body).array();
    }

    /** Parses the bytes as JSON and changes one value, key or array somewhere in the tree; bytes that are not JSON get a token. */
    private byte[] mutateJson(byte[] data) {
        JsonElement root;
        try {
            root = JsonParser.parseString(new String(data, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            return insert(data, random.nextInt(data.length + 1), token());
        }
        List<JsonElement> containers = new ArrayList<>();
        collect(root, containers);
        if (containers.isEmpty()) {
            return WRITER.toJson(value()).getBytes(StandardCharsets.UTF_8);
        }
        JsonElement target = containers.get(random.nextInt(containers.size()));
        if (target.isJsonObject()) {
            JsonObject o = target.getAsJsonObject();
            List<String> keys = new ArrayList<>(o.keySet());
            String key = keys.isEmpty() ? "k" : keys.get(random.nextInt(keys.size()));
            switch (random.nextInt(6)) {
                case 0: o.remove(key); break;
                case 1: { // rename
                    JsonElement v = o.remove(key);
                    o.add(random.nextBoolean() ? key + "_" : "", v == null ? value() : v);
                    break;
                }
                case 2: o.add(key, nest(o.get(key))); break;
                default: o.add(key, value());
            }
        } else {
            JsonArray a = target.getAsJsonArray();
            int size = a.size();
            switch (random.nextInt(4)) {
                case 0: if (size > 0) a.remove(random.nextInt(size)); break;
                case 1: a.add(size == 0 ? value() : a.get(random.nextInt(size)).deepCopy()); break;
                default: if (size > 0) a.set(random.nextInt(size), value()); else a.add(value());
            }
        }
        return WRITER.toJson(root).getBytes(StandardCharsets.UTF_8);
    }

    private static void collect(JsonElement e, List<JsonElement> out) {
        if (e.isJsonObject()) {
            out.add(e);
            e.getAsJsonObject().entrySet().forEach(x -> collect(x.getValue(), out));
        } else if (e.isJsonArray()) {
            out.add(e);
            e.getAsJsonArray().forEach(x -> collect(x, out));
        }
    }

    private JsonElement value() {
        JsonElement v = VALUES[random.nextInt(VALUES.length)];
        return random.nextInt(10) == 0 ? nest(v) : v.deepCopy();
    }

    /** The value wrapped in arrays, sometimes deeper than any parser's nesting limit. */
    private JsonElement nest(JsonElement v) {
        int depth = random.nextInt(20) == 0 ? 300 + random.nextInt(200) : 1 + random.nextInt(3);
        JsonElement out = v == null ? JsonNull.INSTANCE : v.deepCopy();
        for (int i = 0; i < depth; i++) {
            JsonArray a = new JsonArray();
            a.add(out);
            out = a;
        }
        return out;
    }

    private byte[] token() {
        return TOKENS[random.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] insert(byte[] data, int at, byte[] piece) {
        byte[] out = new byte[data.length + piece.length];
        System.arraycopy(data, 0, out, 0, at);
        System.arraycopy(piece, 0, out, at, piece.length);
        System.arraycopy(data, at, out, at + piece.length, data.length - at);
        return out;
    }
}
