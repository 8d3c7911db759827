package oneml.data;

import java.util.Collection;
import java.util.List;

/** The two column layouts a split may have: a prompt/response pair, or a single text column. */
enum SplitFormat {
    PROMPT_RESPONSE(List.of("prompt", "response")),
    TEXT(List.of("text"));

    private final List<String> columns;

    SplitFormat(List<String> columns) {
        this.columns = columns;
    }

    List<String> columns() {
        return columns;
    }

    /**
     * The layout the given columns provide, preferring prompt/response; {@code where} (a file, or a
     * file and line) starts the error message when neither layout is there.
     */
    static SplitFormat of(Collection<String> present, String where) {
        if (present.containsAll(PROMPT_RESPONSE.columns)) {
            return PROMPT_RESPONSE;
        }
        if (present.containsAll(TEXT.columns)) {
            return TEXT;
        }
        throw new IllegalArgumentException(where + ": expected columns " + PROMPT_RESPONSE.columns
                + " or " + TEXT.columns + ", but found " + List.copyOf(present));
    }
}
