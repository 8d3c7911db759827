package oneml.data;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Fills {@code {slot}} placeholders, so sentence templates read like the sentences they make. */
final class Template {

    private static final Pattern SLOT = Pattern.compile("\\{([a-z_0-9]+)}");

    private Template() {}

    /** Replaces each {@code {slot}}; a slot without a value is a bug in a template, so it throws. */
    static String fill(String template, Map<String, String> values) {
        Matcher m = SLOT.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = values.get(m.group(1));
            if (value == null) {
                throw new IllegalStateException("no value for {" + m.group(1) + "} in: " + template);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        if (out.indexOf("{") >= 0 || out.indexOf("}") >= 0) {
            throw new IllegalStateException("malformed slot in: " + template);
        }
        return out.toString();
    }
}
