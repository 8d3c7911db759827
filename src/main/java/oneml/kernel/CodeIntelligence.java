package oneml.kernel;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import jdk.jshell.JShell;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.CompletionInfo;
import jdk.jshell.SourceCodeAnalysis.Documentation;
import jdk.jshell.SourceCodeAnalysis.Suggestion;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.ReplacementOptions;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.magic.MagicParser;
import org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry;

/**
 * is_complete, complete and inspect over JShell's source analysis. A cell holds several snippets, while JShell
 * analyses one: completion and inspection work on the snippet that holds the cursor. Jupyter counts cursor
 * positions in code points, Java strings in UTF-16 units; the conversion happens here, at the edge.
 */
final class CodeIntelligence {
    private static final Pattern MAGIC_PREFIX = Pattern.compile("(?m)^[ \\t]*(%{1,2})(\\w*)\\z");

    private final Supplier<JShell> shell;
    private final MagicParser magicParser;
    private final MagicsRegistry magics;

    CodeIntelligence(Supplier<JShell> shell, MagicParser magicParser, MagicsRegistry magics) {
        this.shell = shell;
        this.magicParser = magicParser;
        this.magics = magics;
    }

    /** "complete", "invalid", or the indent of the next line when more is expected (is_complete_reply). */
    String isComplete(String code) {
        SourceCodeAnalysis analysis = shell.get().sourceCodeAnalysis();
        String remaining = magicParser.resolveMagics(code);
        while (true) {
            if (remaining.isBlank()) {
                return BaseKernel.IS_COMPLETE_YES;
            }
            CompletionInfo info = analysis.analyzeCompletion(remaining);
            switch (info.completeness()) {
                case EMPTY:
                    return BaseKernel.IS_COMPLETE_YES;
                case COMPLETE:
                case COMPLETE_WITH_SEMI:
                    remaining = info.remaining();
                    break;
                case DEFINITELY_INCOMPLETE:
                case CONSIDERED_INCOMPLETE:
                    return indent(code);
                default:
                    return BaseKernel.IS_COMPLETE_BAD;
            }
        }
    }

    /** Magic names after {@code %} or {@code %%}, otherwise JShell's suggestions, those of the expected type first. */
    ReplacementOptions complete(String code, int cursor) {
        int at = utf16(code, cursor);
        Matcher magic = MAGIC_PREFIX.matcher(code.substring(0, at));
        if (magic.find()) {
            String prefix = magic.group(2);
            Set<String> names = magic.group(1).length() == 2 ? magics.getCellMagicNames() : magics.getLineMagicNames();
            List<String> matches = names.stream().filter(n -> n.startsWith(prefix)).sorted().collect(Collectors.toList());
            return new ReplacementOptions(matches, codePoints(code, at - prefix.length()), codePoints(code, at));
        }
        SourceCodeAnalysis analysis = shell.get().sourceCodeAnalysis();
        int start = snippetStart(analysis, code, at);
        int[] anchor = {-1};
        List<Suggestion> suggestions = analysis.completionSuggestions(code.substring(start), at - start, anchor);
        if (suggestions.isEmpty() || anchor[0] < 0) {
            return null;
        }
        Set<String> typed = new LinkedHashSet<>();
        Set<String> others = new LinkedHashSet<>();
        for (Suggestion s : suggestions) {
            (s.matchesType() ? typed : others).add(s.continuation());
        }
        typed.addAll(others);
        return new ReplacementOptions(new ArrayList<>(typed), codePoints(code, start + anchor[0]), codePoints(code, at));
    }

    /**
     * Signatures and javadoc of what the identifier at the cursor names (every overload of a method), or else the
     * type of the expression there; null when there is neither.
     */
    DisplayData inspect(String code, int cursor) {
        int at = utf16(code, cursor);
        int end = at;
        while (end < code.length() && Character.isJavaIdentifierPart(code.charAt(end))) {
            end++;
        }
        SourceCodeAnalysis analysis = shell.get().sourceCodeAnalysis();
        int start = snippetStart(analysis, code, end);
        String snippet = code.substring(start);
        List<Documentation> docs = analysis.documentation(snippet, end - start, true);
        if (docs.isEmpty() && end > start && Character.isJavaIdentifierPart(code.charAt(end - 1))) {
            // a bare method name (Math.max, list.add): JShell documents only calls, so ask as if the call were opened
            docs = analysis.documentation(code.substring(start, end) + "(", end - start + 1, true);
        }
        StringBuilder text = new StringBuilder();
        for (Documentation d : docs) {
            text.append(d.signature()).append('\n');
            if (d.javadoc() != null && !d.javadoc().isBlank()) {
                text.append('\n').append(d.javadoc().strip()).append("\n\n");
            }
        }
        if (text.length() == 0) {
            String type = analysis.analyzeType(snippet, end - start);
            if (type == null || type.isBlank()) {
                return null;
            }
            int idStart = end;
            while (idStart > 0 && Character.isJavaIdentifierPart(code.charAt(idStart - 1))) {
                idStart--;
            }
            text.append(code, idStart, end).append(" : ").append(type).append('\n');
        }
        return new DisplayData(text.toString().strip());
    }

    /** The indent of the next line: the last line's, one level more after an opening brace or parenthesis. */
    private static String indent(String code) {
        String last = code.isEmpty() ? "" : code.lines().reduce((a, b) -> b).orElse("");
        String lead = last.substring(0, last.length() - last.stripLeading().length());
        String trimmed = last.strip();
        return trimmed.endsWith("{") || trimmed.endsWith("(") ? lead + "    " : lead;
    }

    /** Where the snippet holding position {@code at} starts. */
    private static int snippetStart(SourceCodeAnalysis analysis, String code, int at) {
        int start = 0;
        String remaining = code;
        while (!remaining.isBlank()) {
            CompletionInfo info = analysis.analyzeCompletion(remaining);
            if (info.completeness() != SourceCodeAnalysis.Completeness.COMPLETE
                    && info.completeness() != SourceCodeAnalysis.Completeness.COMPLETE_WITH_SEMI) {
                break;
            }
            int consumed = code.length() - info.remaining().length();
            if (consumed >= at || info.remaining().length() >= remaining.length()) {
                break;
            }
            start = consumed;
            remaining = info.remaining();
        }
        // skip the whitespace between snippets
        while (start < at && Character.isWhitespace(code.charAt(start))) {
            start++;
        }
        return start;
    }

    private static int utf16(String code, int codePoints) {
        int n = code.codePointCount(0, code.length());
        return code.offsetByCodePoints(0, Math.max(0, Math.min(codePoints, n)));
    }

    private static int codePoints(String code, int utf16) {
        return code.codePointCount(0, Math.max(0, Math.min(utf16, code.length())));
    }
}
