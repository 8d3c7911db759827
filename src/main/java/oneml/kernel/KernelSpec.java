package oneml.kernel;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import oneml.io.AtomicFiles;

/**
 * A Jupyter kernelspec for the oneml kernel: {@code kernels/NAME/kernel.json} whose argv starts this JVM's
 * {@code java} on the given class path with {@code -Doneml.home}, the kernel main class and
 * {@code {connection_file}}; {@code interrupt_mode} is {@code message} (interrupts reach the kernel as
 * interrupt_request, which stops the running cell). Where kernelspecs go follows {@code jupyter kernelspec
 * install}: the user's data directory ({@code JUPYTER_DATA_DIR} when set), {@code PREFIX/share/jupyter}, or the
 * system directory.
 */
public final class KernelSpec {
    public static final String DEFAULT_NAME = "java";
    public static final String DEFAULT_DISPLAY_NAME = "Java (oneml)";
    public static final String MAIN_CLASS = OnemlKernel.class.getName();
    private static final Pattern NAME = Pattern.compile("^[a-zA-Z0-9._\\-]+$");

    private final String name;
    private final String displayName;
    private final List<String> argv;
    private final Map<String, String> env;

    private KernelSpec(String name, String displayName, List<String> argv, Map<String, String> env) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("kernel name '" + name + "' may only hold letters, digits, '.', '_' and '-'");
        }
        this.name = name;
        this.displayName = displayName;
        this.argv = List.copyOf(argv);
        this.env = Map.copyOf(env);
    }

    /**
     * The spec that runs the kernel with {@code java} (this JVM's), {@code jvmOptions}, {@code classpath},
     * {@code -Doneml.home=home}.
     */
    public static KernelSpec of(String name, String displayName, String classpath, Path home, List<String> jvmOptions) {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", isWindows() ? "java.exe" : "java").toString());
        argv.add("-Xss4m");
        argv.add("-Djava.awt.headless=true");
        argv.add("-Dai.djl.offline=true");
        argv.add("-Doneml.home=" + home.toAbsolutePath().normalize());
        argv.addAll(jvmOptions);
        argv.add("-cp");
        argv.add(classpath);
        argv.add(MAIN_CLASS);
        argv.add("{connection_file}");
        return new KernelSpec(name, displayName, argv, Map.of());
    }

    /** The class path of an installed project: target/oneml.jar and target/lib/* (what {@code mvn package} builds). */
    public static String projectClasspath(Path home) {
        Path target = home.toAbsolutePath().normalize().resolve("target");
        return target.resolve("oneml.jar") + java.io.File.pathSeparator + target.resolve("lib") + java.io.File.separator + "*";
    }

    public String name() {
        return name;
    }

    public List<String> argv() {
        return argv;
    }

    public String toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("argv", argv);
        json.put("display_name", displayName);
        json.put("language", "java");
        json.put("interrupt_mode", "message");
        if (!env.isEmpty()) {
            json.put("env", env);
        }
        json.put("metadata", Map.of("debugger", false, "oneml", Map.of("kernel", OnemlKernel.VERSION)));
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(json) + "\n";
    }

    /** Writes {@code kernelsDir/NAME/kernel.json} (replacing an older one) and returns the spec's folder. */
    public Path installInto(Path kernelsDir) throws IOException {
        Path dir = kernelsDir.resolve(name);
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve("kernel.json"), toJson());
        return dir;
    }

    /** {@code JUPYTER_DATA_DIR/kernels}, else the platform's user data directory (as {@code jupyter --data-dir}). */
    public static Path userKernelsDir() {
        String data = System.getenv("JUPYTER_DATA_DIR");
        if (data != null && !data.isBlank()) {
            return Path.of(data).resolve("kernels");
        }
        Path home = Path.of(System.getProperty("user.home"));
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.contains("mac")) {
            return home.resolve("Library/Jupyter/kernels");
        }
        if (isWindows()) {
            String appData = System.getenv("APPDATA");
            return (appData != null ? Path.of(appData) : home.resolve("AppData/Roaming")).resolve("jupyter/kernels");
        }
        String xdg = System.getenv("XDG_DATA_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : home.resolve(".local/share")).resolve("jupyter/kernels");
    }

    /** {@code PREFIX/share/jupyter/kernels} (a virtual environment's or conda's prefix). */
    public static Path prefixKernelsDir(Path prefix) {
        return prefix.resolve("share/jupyter/kernels");
    }

    /** The system-wide directory {@code jupyter kernelspec install} uses without --user. */
    public static Path systemKernelsDir() {
        if (isWindows()) {
            String programData = System.getenv("PROGRAMDATA");
            return Path.of(programData != null ? programData : "C:\\ProgramData", "jupyter", "kernels");
        }
        return Path.of("/usr/local/share/jupyter/kernels");
    }

    private static boolean isWindows() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
    }
}
