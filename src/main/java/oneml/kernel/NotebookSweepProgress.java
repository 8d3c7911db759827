package oneml.kernel;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.UUID;
import oneml.sweep.SweepProgress;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

/**
 * A sweep's live progress in a notebook cell: one display, shown when the sweep starts and updated in place at every
 * trial's start and end (update_display_data) and at the end: a progress bar of the trials done, the counts (done,
 * failed, running, waiting) with the ETA, and the last few events. The kernel installs it with
 * {@link SweepProgress#display}; on the terminal the same events are one line each.
 */
final class NotebookSweepProgress implements SweepProgress.Listener {
    /** Events listed under the bar. */
    static final int RECENT = 6;

    private final NotebookProgress.Display display;
    private final String id = UUID.randomUUID().toString();
    private final Deque<String> recent = new ArrayDeque<>();
    private boolean shown;
    private int updates;

    NotebookSweepProgress(NotebookProgress.Display display) {
        this.display = display;
    }

    /** How many times the display was published (tests). */
    int updates() {
        return updates;
    }

    @Override
    public void onEvent(SweepProgress.Event event, SweepProgress.Status status, String what) {
        recent.addLast(event == SweepProgress.Event.SWEEP_STARTED ? "sweep: " + what : what);
        while (recent.size() > RECENT) {
            recent.removeFirst();
        }
        DisplayData data = render(status);
        data.setDisplayId(id);
        if (display.publish(data, shown)) {
            shown = true;
            updates++;
        }
    }

    DisplayData render(SweepProgress.Status s) {
        StringBuilder text = new StringBuilder("[").append(s.summary()).append("] ").append(recent.peekLast());
        StringBuilder html = new StringBuilder("<div style=\"font-family:monospace\"><progress value=\"").append(s.done())
                .append("\" max=\"").append(Math.max(1, s.total())).append("\" style=\"width:200px;vertical-align:middle\"></progress> ")
                .append(Renderers.escape("trials " + s.summary()));
        if (!Double.isNaN(s.meanTrialSeconds()) && !s.over()) {
            html.append(Renderers.escape(" (a trial takes " + SweepProgress.time(s.meanTrialSeconds()) + " on average)"));
        }
        html.append("<div style=\"color:#555;font-size:90%\">");
        for (String line : recent) {
            boolean failed = line.contains(" FAILED");
            html.append(failed ? "<div style=\"color:#b00\">" : "<div>").append(Renderers.escape(line)).append("</div>");
        }
        DisplayData d = new DisplayData(text.toString());
        d.putHTML(html.append("</div></div>").toString());
        return d;
    }
}
