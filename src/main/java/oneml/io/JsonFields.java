package oneml.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed reads of JSON fields that fail with the field's name and the value found ("field 'r' must be a whole
 * number, got \"8\""), instead of Gson's casts, which throw its internal exceptions or silently truncate 8.5 to 8.
 * Callers wrap the {@link IllegalArgumentException} into a {@link BadFileException} naming the file.
 */
public final class JsonFields {
    private static final BigDecimal LONG_MIN = BigDecimal.valueOf(Long.MIN_VALUE);
    private static final BigDecimal LONG_MAX = BigDecimal.valueOf(Long.MAX_VALUE);

    private JsonFields() {}

    /** Present and not null (Python writes absent options as null). */
    public static boolean has(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull();
    }

    /** A required whole number that fits an int. */
    public static int integer(JsonObject o, String key) {
        if (!has(o, key)) {
            throw new IllegalArgumentException("the required field '" + key + "' is missing");
        }
        return intValue(o.get(key), "field '" + key + "'");
    }

    public static int integer(JsonObject o, String key, int fallback) {
        return has(o, key) ? intValue(o.get(key), "field '" + key + "'") : fallback;
    }

    /** A finite number. */
    public static double number(JsonObject o, String key, double fallback) {
        return has(o, key) ? doubleValue(o.get(key), "field '" + key + "'") : fallback;
    }

    public static boolean bool(JsonObject o, String key, boolean fallback) {
        if (!has(o, key)) {
            return fallback;
        }
        JsonElement e = o.get(key);
        if (!(e instanceof JsonPrimitive p) || !p.isBoolean()) {
            throw new IllegalArgumentException("field '" + key + "' must be true or false, got " + show(e));
        }
        return p.getAsBoolean();
    }

    public static String string(JsonObject o, String key, String fallback) {
        return has(o, key) ? stringValue(o.get(key), "field '" + key + "'") : fallback;
    }

    /** A list of strings; a single string is a list of one. */
    public static List<String> strings(JsonObject o, String key) {
        JsonElement e = o.get(key);
        List<String> out = new ArrayList<>();
        if (e == null || e.isJsonNull()) {
            return out;
        }
        if (e.isJsonArray()) {
            for (JsonElement item : e.getAsJsonArray()) {
                out.add(stringValue(item, "each entry of '" + key + "'"));
            }
        } else {
            out.add(stringValue(e, "field '" + key + "'"));
        }
        return out;
    }

    public static int intValue(JsonElement e, String what) {
        long v = longValue(e, what);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " is " + show(e) + ", too large (at most " + Integer.MAX_VALUE + ")");
        }
        return (int) v;
    }

    /** A whole number in the long range; 3.0 is accepted (Python may write floats), 3.5, "3", 1e400 and NaN are not. */
    public static long longValue(JsonElement e, String what) {
        BigDecimal d = decimal(e, what);
        // compareTo looks at the exponents first, so 1e999999999 is rejected without building its digits
        if (d.compareTo(LONG_MIN) < 0 || d.compareTo(LONG_MAX) > 0) {
            throw new IllegalArgumentException(what + " is " + show(e) + ", out of range");
        }
        if (d.signum() != 0 && d.stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException(what + " must be a whole number, got " + show(e));
        }
        return d.longValue();
    }

    public static double doubleValue(JsonElement e, String what) {
        if (!(e instanceof JsonPrimitive p) || !p.isNumber()) {
            throw new IllegalArgumentException(what + " must be a number, got " + show(e));
        }
        double v;
        try {
            v = p.getAsDouble();
        } catch (NumberFormatException ex) {
            throw new IllegalArgumentException(what + " must be a number, got " + show(e));
        }
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException(what + " must be a finite number, got " + show(e));
        }
        return v;
    }

    public static String stringValue(JsonElement e, String what) {
        if (!(e instanceof JsonPrimitive p) || !p.isString()) {
            throw new IllegalArgumentException(what + " must be a string, got " + show(e));
        }
        return p.getAsString();
    }

    private static BigDecimal decimal(JsonElement e, String what) {
        if (!(e instanceof JsonPrimitive p) || !p.isNumber()) {
            throw new IllegalArgumentException(what + " must be a whole number, got " + show(e));
        }
        try {
            return new BigDecimal(p.getAsString());
        } catch (NumberFormatException ex) { // NaN, Infinity (lenient JSON) or a malformed literal
            throw new IllegalArgumentException(what + " must be a whole number, got " + show(e));
        }
    }

    /** A JSON value for a message, cut to 60 characters. */
    public static String show(JsonElement e) {
        String s = e == null ? "nothing" : e.toString();
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
