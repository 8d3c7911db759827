package oneml.kernel;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import jdk.jshell.DeclarationSnippet;
import jdk.jshell.Diag;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import oneml.kernel.OnemlKernel.CellInterrupted;
import oneml.kernel.OnemlKernel.CompilationException;
import oneml.kernel.OnemlKernel.EvaluationError;
import org.dflib.jjava.jupyter.kernel.util.StringStyler;

/**
 * How a failed cell reads in the notebook: a snippet that does not compile as its source with the error marked
 * and the compiler's message; an exception the cell threw with its stack cut where the kernel's own frames begin
 * (JShell's wrapper, reflection, {@link CellExecution}); a failed magic or an interrupt as its message alone, since
 * the resolver's or the kernel's stack would say nothing to the user.
 */
final class ErrorFormatter {
    private final StringStyler styler;

    ErrorFormatter(StringStyler styler) {
        this.styler = styler;
    }

    /** The lines of an error_reply's traceback for {@code e}. */
    List<String> format(Throwable e) {
        if (e instanceof CompilationException c) {
            return c.lines();
        }
        if (e instanceof CellInterrupted) {
            return List.of(styler.primary(e.getMessage())); // the kernel's own stack would say nothing
        }
        Throwable shown = e instanceof EvaluationError ee ? ee.getCause() : e;
        List<String> lines = new ArrayList<>();
        if (isMagicFailure(shown)) {
            // a magic failed: its message says what went wrong, the resolver's or the kernel's stack would not
            String message = String.valueOf(shown.getMessage());
            message.lines().forEach(l -> lines.add(styler.secondary(l)));
            return lines;
        }
        appendTrace(lines, shown, "", new LinkedHashSet<>());
        return lines;
    }

    /** A rejected snippet: each compiler error marked in the source, with its message. */
    CompilationException compilationError(JShell s, Snippet snippet) {
        List<String> lines = new ArrayList<>();
        String source = snippet.source();
        String first = null;
        for (Diag d : s.diagnostics(snippet).toList()) {
            if (!d.isError()) {
                continue;
            }
            String message = d.getMessage(Locale.ROOT);
            if (first == null) {
                first = message;
            }
            int start = (int) Math.max(0, d.getStartPosition() >= 0 ? d.getStartPosition() : d.getPosition());
            int end = (int) Math.max(start + 1, d.getEndPosition());
            start = Math.min(start, source.length());
            end = Math.min(end, source.length());
            lines.addAll(styler.highlightSubstringLines(source.stripTrailing(), Math.min(start, source.stripTrailing().length()),
                    Math.min(end, source.stripTrailing().length())));
            lines.addAll(styler.primaryLines(message));
        }
        if (first == null) {
            first = "the snippet was rejected: " + source.strip();
            lines.add(styler.primary(first));
        }
        return new CompilationException(first, lines);
    }

    /** A declaration that compiled but cannot be defined until the names it uses are. */
    CompilationException unresolved(JShell s, DeclarationSnippet d) {
        String missing = String.join(", ", s.unresolvedDependencies(d).toList());
        return new CompilationException("unresolved: " + missing,
                List.of(styler.secondary(d.source().strip()), styler.primary("cannot be defined until these are: " + missing)));
    }

    private static boolean isMagicFailure(Throwable t) {
        StackTraceElement[] top = t.getStackTrace();
        for (int i = 0; i < Math.min(3, top.length); i++) {
            String c = top[i].getClassName();
            if (c.equals(org.dflib.jjava.jupyter.kernel.BaseNotebookStatics.class.getName())
                    || c.equals(org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry.class.getName())) {
                return true;
            }
        }
        return false;
    }

    private void appendTrace(List<String> lines, Throwable t, String prefix, Set<Throwable> seen) {
        if (!seen.add(t)) {
            return;
        }
        String head = prefix + t.getClass().getName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        lines.add(styler.secondary(head.lines().findFirst().orElse(head)));
        head.lines().skip(1).forEach(l -> lines.add(styler.secondary(l)));
        StackTraceElement[] trace = t.getStackTrace();
        int end = trace.length;
        for (int i = trace.length - 1; i >= 0; i--) {
            if (trace[i].getClassName().startsWith("REPL.")) {
                end = i + 1;
                break;
            }
        }
        for (int i = 0; i < end; i++) {
            String c = trace[i].getClassName();
            if (c.startsWith("oneml.kernel.CellExecution") || c.startsWith("jdk.internal.reflect.")
                    || (c.equals("java.lang.reflect.Method") && trace[i].getMethodName().equals("invoke"))) {
                break;
            }
            lines.add(styler.primary("    at " + trace[i]));
        }
        if (t.getCause() != null) {
            appendTrace(lines, t.getCause(), "Caused by: ", seen);
        }
    }
}
