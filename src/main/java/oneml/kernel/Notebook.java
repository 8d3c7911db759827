package oneml.kernel;

import java.util.UUID;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

/**
 * What notebook code uses to talk to the frontend; every cell starts with {@code import static
 * oneml.kernel.Notebook.*}. A cell's last expression is displayed anyway; these are for displaying more than
 * one thing, updating a display in place and clearing output.
 *
 * <pre>{@code
 * String id = display(table.first(5));     // shows the table, returns the display's id
 * updateDisplay(id, table.first(10));      // replaces that display
 * display(html("<b>done</b>"));
 * clearOutput();
 * }</pre>
 */
public final class Notebook {
    private Notebook() {}

    private static BaseKernel kernel() {
        return BaseKernel.notebookKernel();
    }

    private static void flush() {
        System.out.flush();
        System.err.flush();
    }

    /** Renders {@code o} (as the cell's value would be) and shows it now; returns the display id. */
    public static String display(Object o) {
        return show(render(o));
    }

    /** Shows {@code o} rendered as the given MIME types (for example "text/html", "image/svg+xml"). */
    public static String display(Object o, String... mimeTypes) {
        return show(render(o, mimeTypes));
    }

    private static String show(DisplayData data) {
        if (data.getDisplayId() == null) {
            data.setDisplayId(UUID.randomUUID().toString());
        }
        flush();
        kernel().display(data);
        return data.getDisplayId();
    }

    /** Replaces what display {@code id} shows. */
    public static void updateDisplay(String id, Object o) {
        DisplayData data = render(o);
        data.setDisplayId(id);
        flush();
        kernel().getIO().display.updateDisplay(data);
    }

    public static void updateDisplay(String id, Object o, String... mimeTypes) {
        DisplayData data = render(o, mimeTypes);
        data.setDisplayId(id);
        flush();
        kernel().getIO().display.updateDisplay(data);
    }

    public static DisplayData render(Object o) {
        return o instanceof DisplayData d ? new DisplayData(d) : kernel().getRenderer().render(o);
    }

    public static DisplayData render(Object o, String... mimeTypes) {
        return kernel().getRenderer().renderAs(o, mimeTypes);
    }

    /** HTML to display (a plain-text rendering, the tags removed, goes with it). */
    public static DisplayData html(String html) {
        DisplayData d = new DisplayData(html.replaceAll("<[^>]*>", "").strip());
        d.putHTML(html);
        return d;
    }

    /** Markdown to display. */
    public static DisplayData markdown(String markdown) {
        DisplayData d = new DisplayData(markdown);
        d.putMarkdown(markdown);
        return d;
    }

    /** Clears this cell's output now. */
    public static void clearOutput() {
        clearOutput(false);
    }

    /** Clears this cell's output; with {@code wait}, only when the next output arrives (no flicker). */
    public static void clearOutput(boolean wait) {
        if (kernel() instanceof OnemlKernel k) {
            k.clearOutput(wait);
        }
    }
}
