package oneml.kernel;

import org.dflib.jjava.jupyter.Extension;
import org.dflib.jjava.jupyter.kernel.BaseKernel;

/**
 * Lets a stock JJava kernel show oneml's objects as this project's kernel does: JJava discovers it through
 * {@code META-INF/services/org.dflib.jjava.jupyter.Extension} when the oneml jar is added to its class path
 * ({@code %jars} or {@code %maven}), and it registers the same renderers (Tablesaw tables as HTML, XChart
 * charts as PNG, configs, PEFT models and training runs as HTML).
 */
public final class OnemlExtension implements Extension {
    @Override
    public void install(BaseKernel kernel) {
        Renderers.registerAll(kernel.getRenderer());
    }
}
