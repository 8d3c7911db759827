package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import oneml.sweep.Space;
import oneml.sweep.Sweep;
import oneml.sweep.SweepFixtures;
import oneml.sweep.SweepPlan;
import oneml.sweep.SweepProgress;
import oneml.sweep.SweepResult;
import oneml.sweep.TrialResult;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.junit.jupiter.api.Test;

/** Sweeps, their plans and their results as a notebook shows them, and a sweep's live progress display. */
class SweepRenderingTest {
    static final Renderer RENDERER = new Renderer();

    static {
        Renderers.registerAll(RENDERER);
    }

    static String html(Object value) {
        return String.valueOf(RENDERER.render(value).getData(MIMEType.TEXT_HTML));
    }

    @Test
    void aSweepShowsItsPlanPerSpaceWithTheSweptValuesAndTheFixedOnes() {
        Sweep sweep = SweepFixtures.sweep();
        String html = html(sweep);
        assertTrue(html.startsWith("<div class=\"oneml-sweep\"><b>Sweep(sentiment on oneml-tiny, 60 steps, batch 16, 3 seeds from 42, 1 at a time locally)</b>"), html);
        assertTrue(html.contains("Sweep plan: 15 trials (12 lora, 3 ia3), 3 seeds each"), html);
        assertTrue(html.contains("<td>12</td><td style=\"text-align:left\">r ∈ {4, 16}; learningRate ∈ {0.002, 0.01}</td>"), html);
        assertTrue(html.contains("<b>ia3</b></td><td>3</td><td style=\"text-align:left\">(nothing: seeds only)"), html);
        assertTrue(html.contains("alpha=16") && html.contains("steps=60"), "the fixed fields too: " + html);
        assertTrue(String.valueOf(RENDERER.render(sweep).getData(MIMEType.TEXT_PLAIN)).startsWith("Sweep(sentiment"));

        String bad = html(Sweep.tiny("sentiment").add(Space.lora().grid("rank", 4)));
        assertTrue(bad.contains("cannot plan: ") && bad.contains("unknown field 'rank' for method lora"), bad);
    }

    @Test
    void aPlanShowsTheSameSummaryAndItsTrials() {
        SweepPlan plan = SweepFixtures.sweep().plan();
        String html = html(plan);
        assertTrue(html.startsWith("<div class=\"oneml-sweep-plan\">") && html.contains("r ∈ {4, 16}"), html);
        assertTrue(html.contains("15 rows × ") && html.contains(plan.trials().get(0).id()), "the plan's table: " + html);
        assertFalse(html.contains("oneml-record"), "not the generic record view");
    }

    @Test
    void aResultShowsItsSummaryTheBestAndTheAggregatesAndAChart() throws Exception {
        SweepResult r = SweepFixtures.result(SweepFixtures.sweep().plan(), t -> t.seed() == 44 && t.learningRate() == 1e-2);
        DisplayData data = RENDERER.render(r);
        String html = String.valueOf(data.getData(MIMEType.TEXT_HTML));
        assertTrue(html.startsWith("<div class=\"oneml-sweep-result\"><b>SweepResult</b>: sentiment on oneml-tiny, 15 trials, 2 failed; swept: r, learningRate"),
                html);
        assertTrue(html.contains("<b>Best per space</b>") && html.contains("best val loss mean") && html.contains("<b>Every configuration</b>"), html);
        assertTrue(html.contains("5 rows × 11 columns"), "5 configurations: name, r, learningRate, n, failed and 6 metric columns");
        Matcher png = Pattern.compile("<img alt=\"([^\"]*)\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\">").matcher(html);
        assertTrue(png.find(), html);
        assertEquals("best_val_loss against r, mean ± std over 2-3 seeds (lower is better)", png.group(1));
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(png.group(2))));
        assertTrue(image.getWidth() >= 700, "a real PNG");
        assertTrue(html.contains("failed: lora-") && html.contains("made up: diverged"), html);
        assertEquals(r.toString(), data.getData(MIMEType.TEXT_PLAIN));
    }

    @Test
    void ijavaKernelsGetTheSameViews() throws Exception {
        io.github.spencerpark.jupyter.kernel.display.Renderer ijava = new io.github.spencerpark.jupyter.kernel.display.Renderer();
        IJavaRenderers.install(ijava);
        SweepPlan plan = SweepFixtures.sweep().plan();
        var mime = io.github.spencerpark.jupyter.kernel.display.mime.MIMEType.TEXT_HTML;
        assertTrue(String.valueOf(ijava.render(plan).getData(mime)).startsWith("<div class=\"oneml-sweep-plan\">"));
        assertTrue(String.valueOf(ijava.render(SweepFixtures.sweep()).getData(mime)).startsWith("<div class=\"oneml-sweep\">"));
        String result = String.valueOf(ijava.render(SweepFixtures.result(plan, t -> false)).getData(mime));
        assertTrue(result.startsWith("<div class=\"oneml-sweep-result\">") && result.contains("data:image/png;base64,iVBOR"), "a result with its chart");
    }

    @Test
    void aSweepsProgressIsOneDisplayUpdatedInPlace() {
        NotebookProgressTest.Recorder cell = new NotebookProgressTest.Recorder(true);
        NotebookSweepProgress shown = new NotebookSweepProgress(cell);
        SweepPlan plan = Sweep.tiny("sentiment").add(Space.lora().r(4, 8, 16)).plan();
        List<TrialResult> results = SweepFixtures.result(plan, t -> t.config().get("r").equals(8)).trials();
        long[] now = {0};
        SweepProgress p = new SweepProgress(3, List.of(), 2, shown, () -> now[0]);
        p.begin();
        p.started(plan.trials().get(0));
        p.started(plan.trials().get(1));
        now[0] += 30_000_000_000L;
        p.ended(results.get(0));
        p.started(plan.trials().get(2));
        now[0] += 5_000_000_000L;
        p.ended(results.get(1));
        now[0] += 25_000_000_000L;
        p.ended(results.get(2));
        p.end();
        assertEquals(8, cell.sent.size());
        assertFalse(cell.sent.get(0).update(), "shown once");
        assertTrue(cell.sent.stream().skip(1).allMatch(NotebookProgressTest.Recorder.Sent::update), "then updated in place");
        assertEquals(1, cell.sent.stream().map(s -> s.data().getDisplayId()).distinct().count(), "one display id throughout");
        String mid = String.valueOf(cell.sent.get(3).data().getData(MIMEType.TEXT_HTML));
        assertTrue(mid.contains("<progress value=\"1\" max=\"3\"") && mid.contains("trials 1/3 done, 1 running, 1 waiting, ETA 0:30")
                && mid.contains("(a trial takes 0:30 on average)"), mid);
        String afterFailure = String.valueOf(cell.sent.get(5).data().getData(MIMEType.TEXT_HTML));
        assertTrue(afterFailure.contains("<div style=\"color:#b00\">" + plan.trials().get(1).id() + " FAILED: made up: diverged</div>"), afterFailure);
        DisplayData last = cell.sent.get(7).data();
        assertTrue(String.valueOf(last.getData(MIMEType.TEXT_HTML)).contains("<progress value=\"3\" max=\"3\"")
                && String.valueOf(last.getData(MIMEType.TEXT_HTML)).contains("trials 3/3 done (1 failed) in 1:00"), String.valueOf(last.getData(MIMEType.TEXT_HTML)));
        assertEquals("[3/3 done (1 failed) in 1:00] sweep done", last.getData(MIMEType.TEXT_PLAIN));
        assertEquals(8, shown.updates());

        NotebookProgressTest.Recorder detached = new NotebookProgressTest.Recorder(false);
        NotebookSweepProgress nowhere = new NotebookSweepProgress(detached);
        new SweepProgress(1, List.of(), 1, nowhere, () -> 0).begin();
        assertEquals(0, nowhere.updates());
    }
}
