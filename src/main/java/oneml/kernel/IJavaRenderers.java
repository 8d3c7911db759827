package oneml.kernel;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;

/**
 * oneml's renderers in a stock IJava kernel (SpencerPark's), which has no extension hook. In a notebook:
 * <pre>
 * %jars /path/to/oneml/target/oneml.jar /path/to/oneml/target/lib/*.jar
 * oneml.kernel.IJavaRenderers.install();
 * </pre>
 * From then on Tablesaw tables show as HTML, XChart charts as PNG (SVG on request), and oneml's configs, models,
 * runs and datasets as HTML, as in oneml's own kernel and in JJava ({@link OnemlExtension}).
 *
 * <p>IJava's renderer registry ({@code IJava.getKernelInstance().getRenderer()}) is the one of
 * {@code io.github.spencerpark:jupyter-jvm-basekernel}, which oneml does not depend on: this class reaches it by
 * reflection. Each of oneml's kinds ({@link Renderers#KINDS}) is registered there with the same MIME types; its
 * render function asks oneml's own (JJava) renderer for the types IJava requested and copies the result into
 * IJava's output. (JJava's display API is a fork of that base's, so the two agree on what a request means.)
 */
public final class IJavaRenderers {
    private static final String IJAVA = "io.github.spencerpark.ijava.IJava";
    private static final String DISPLAY = "io.github.spencerpark.jupyter.kernel.display.";

    private IJavaRenderers() {}

    /** Registers oneml's renderers with the IJava kernel this cell runs in. */
    public static void install() {
        Class<?> ijava = findIJava();
        Object kernel;
        try {
            kernel = ijava.getMethod("getKernelInstance").invoke(null);
            if (kernel == null) {
                throw new IllegalStateException("IJava.getKernelInstance() is null: no IJava kernel runs in this JVM");
            }
            install(kernel.getClass().getMethod("getRenderer").invoke(kernel));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("could not register oneml's renderers with IJava's (IJava.getKernelInstance().getRenderer()): "
                    + cause(e), e);
        }
    }

    private static Class<?> findIJava() {
        for (ClassLoader loader : new ClassLoader[] {IJavaRenderers.class.getClassLoader(), Thread.currentThread().getContextClassLoader()}) {
            try {
                return Class.forName(IJAVA, false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                // try the next loader
            }
        }
        throw new IllegalStateException("IJavaRenderers.install() is for cells of an IJava kernel, and " + IJAVA + " is not"
                + " on the class path (in oneml's own kernel and in JJava the renderers are installed already)");
    }

    /**
     * Registers oneml's renderers with an IJava renderer, an {@code io.github.spencerpark.jupyter.kernel.display.Renderer}
     * (what {@link #install()} finds in the running kernel).
     */
    static void install(Object ijavaRenderer) throws ReflectiveOperationException {
        ClassLoader loader = ijavaRenderer.getClass().getClassLoader();
        Class<?> renderFunction = Class.forName(DISPLAY + "RenderFunction", false, loader);
        Class<?> mimeType = Class.forName(DISPLAY + "mime.MIMEType", false, loader);
        Class<?> renderContext = Class.forName(DISPLAY + "RenderContext", false, loader);
        Class<?> displayData = Class.forName(DISPLAY + "DisplayData", false, loader);
        IJavaApi api = new IJavaApi(mimeType.getMethod("parse", String.class), renderContext.getMethod("wantsDataRenderedAs", mimeType),
                renderContext.getMethod("getOutputContainer"), displayData.getMethod("putData", String.class, Object.class));
        Method createRegistration = ijavaRenderer.getClass().getMethod("createRegistration", Class.class);

        Renderer oneml = new Renderer();
        Renderers.registerAll(oneml);
        for (Renderers.Kind kind : Renderers.KINDS) {
            Object registration = createRegistration.invoke(ijavaRenderer, kind.type());
            Class<?> r = registration.getClass();
            r.getMethod("preferring", String[].class).invoke(registration, (Object) new String[] {kind.preferred().toString()});
            r.getMethod("supporting", String[].class).invoke(registration, (Object) kind.others().stream().map(MIMEType::toString).toArray(String[]::new));
            Object function = Proxy.newProxyInstance(loader, new Class<?>[] {renderFunction}, new Render(oneml, kind, api));
            r.getMethod("register", renderFunction).invoke(registration, function);
        }
    }

    /** The few methods of IJava's display API that rendering needs. */
    private record IJavaApi(Method parseMime, Method wantsRenderedAs, Method outputContainer, Method putData) {}

    /** An IJava RenderFunction for one kind: {@code render(value, context)}. */
    private record Render(Renderer oneml, Renderers.Kind kind, IJavaApi api) implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            switch (method.getName()) {
                case "render" -> {
                    render(args[0], args[1]);
                    return null;
                }
                case "equals" -> {
                    return proxy == args[0];
                }
                case "hashCode" -> {
                    return System.identityHashCode(proxy);
                }
                case "toString" -> {
                    return "oneml renderer for " + kind.type().getName();
                }
                default -> throw new UnsupportedOperationException(method.toString());
            }
        }

        private void render(Object value, Object context) throws Throwable {
            try {
                List<String> wanted = new ArrayList<>();
                for (MIMEType type : kind.types()) {
                    if ((Boolean) api.wantsRenderedAs().invoke(context, api.parseMime().invoke(null, type.toString()))) {
                        wanted.add(type.toString());
                    }
                }
                if (wanted.isEmpty()) {
                    return;
                }
                DisplayData rendered = oneml.renderAs(value, wanted.toArray(String[]::new));
                Object out = api.outputContainer().invoke(context);
                List<MIMEType> produced = new ArrayList<>(kind.types());
                produced.add(MIMEType.TEXT_PLAIN);
                for (MIMEType type : produced) {
                    Object data = rendered.getData(type);
                    if (data != null) {
                        api.putData().invoke(out, type.toString(), data);
                    }
                }
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }

    private static String cause(Throwable e) {
        return String.valueOf(e instanceof InvocationTargetException ite && ite.getCause() != null ? ite.getCause() : e);
    }
}
