package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.Renderer;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import oneml.LoRAConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/**
 * oneml's renderers registered with IJava's renderer (the real one, from io.github.spencerpark:jupyter-jvm-basekernel
 * 2.3.0, which IJava's kernel exposes as {@code IJava.getKernelInstance().getRenderer()}), and rendered by it.
 */
class IJavaRenderersTest {
    static final Renderer IJAVA = new Renderer();

    @BeforeAll
    static void install() throws Exception {
        IJavaRenderers.install(IJAVA);
    }

    @Test
    void tablesRenderAsHtml() {
        DisplayData data = IJAVA.render(Table.create("scores", IntColumn.create("step", 1, 2, 3)));
        String html = String.valueOf(data.getData(MIMEType.TEXT_HTML));
        assertTrue(html.contains("<table") && html.contains("scores") && html.contains("3 rows"), html);
        assertTrue(String.valueOf(data.getData(MIMEType.TEXT_PLAIN)).contains("scores"));
    }

    @Test
    void chartsRenderAsPngAndAsSvgOnRequest() {
        XYChart chart = new XYChartBuilder().width(300).height(200).title("squares").xAxisTitle("x").yAxisTitle("y").build();
        chart.addSeries("y", new double[] {1, 2, 3}, new double[] {1, 4, 9});
        DisplayData data = IJAVA.render(chart);
        assertTrue(String.valueOf(data.getData(MIMEType.IMAGE_PNG)).startsWith("iVBOR"), "a base64 PNG");
        assertEquals("XYChart \"squares\"", data.getData(MIMEType.TEXT_PLAIN));
        assertNull(data.getData(MIMEType.IMAGE_SVG), "SVG only when asked for");

        DisplayData svg = IJAVA.renderAs(chart, "image/svg+xml");
        assertTrue(String.valueOf(svg.getData(MIMEType.IMAGE_SVG)).contains("<svg"));
        assertNull(svg.getData(MIMEType.IMAGE_PNG));
    }

    @Test
    void onemlObjectsRenderAsHtmlAndOtherValuesAsBefore() {
        DisplayData config = IJAVA.render(LoRAConfig.builder().r(8).alpha(16).targetModules("q_proj").build());
        assertTrue(String.valueOf(config.getData(MIMEType.TEXT_HTML)).contains("q_proj"));
        assertTrue(String.valueOf(config.getData(MIMEType.TEXT_PLAIN)).startsWith("LoRAConfig("));

        DisplayData other = IJAVA.render(java.util.List.of(1, 2));
        assertFalse(other.hasDataForType(MIMEType.TEXT_HTML), "other values keep IJava's plain rendering");
        assertEquals("[1, 2]", other.getData(MIMEType.TEXT_PLAIN));
        assertEquals("text", IJAVA.render("text").getData(MIMEType.TEXT_PLAIN));
    }

    @Test
    void outsideIJavaInstallSaysWhatItIsFor() {
        // IJava's kernel jar is not on Maven Central, so it is not on the test class path: as in a plain JVM
        IllegalStateException e = assertThrows(IllegalStateException.class, IJavaRenderers::install);
        assertTrue(e.getMessage().contains("is for cells of an IJava kernel"), e.getMessage());
    }
}
