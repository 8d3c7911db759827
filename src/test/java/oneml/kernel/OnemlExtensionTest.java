package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ServiceLoader;
import org.dflib.jjava.jupyter.Extension;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/** A stock JJava kernel finds oneml's extension through the ServiceLoader and renders tables as HTML. */
class OnemlExtensionTest {
    @Test
    void stockKernelsDiscoverTheExtensionAndItsRenderers() {
        boolean found = ServiceLoader.load(Extension.class).stream().anyMatch(p -> p.type() == OnemlExtension.class);
        assertTrue(found, "META-INF/services declares oneml.kernel.OnemlExtension");
        Renderer renderer = new Renderer();
        Renderers.registerAll(renderer); // what install(kernel) does with kernel.getRenderer()
        DisplayData data = renderer.render(Table.create("t", IntColumn.create("step", 1, 2, 3)));
        Object html = data.getData(org.dflib.jjava.jupyter.kernel.display.mime.MIMEType.TEXT_HTML);
        assertTrue(html != null && html.toString().contains("<table"), String.valueOf(html));
    }
}
