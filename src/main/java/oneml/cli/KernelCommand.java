package oneml.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import oneml.io.ProjectHome;
import oneml.kernel.KernelSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./oneml kernel install}: the Jupyter kernel for Java with oneml preloaded. */
@Command(name = "kernel", mixinStandardHelpOptions = true,
        description = "Jupyter kernel for Java (JShell) with oneml, Tablesaw and XChart preloaded.",
        subcommands = {KernelCommand.Install.class})
final class KernelCommand implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    @Command(name = "install", mixinStandardHelpOptions = true,
            description = {"Install the kernelspec (kernel.json) so Jupyter can start the oneml kernel.",
                    "Like 'jupyter kernelspec install': system-wide by default, --user for the user's Jupyter data "
                            + "directory (JUPYTER_DATA_DIR when set), --prefix for a virtual environment."})
    static final class Install implements Callable<Integer> {
        @Option(names = "--user", description = "install for this user only")
        boolean user;

        @Option(names = "--prefix", paramLabel = "DIR", description = "install into DIR/share/jupyter/kernels")
        Path prefix;

        @Option(names = "--name", defaultValue = KernelSpec.DEFAULT_NAME, description = "kernelspec name (default: ${DEFAULT-VALUE})")
        String name;

        @Option(names = "--display-name", defaultValue = KernelSpec.DEFAULT_DISPLAY_NAME,
                description = "name shown in Jupyter (default: ${DEFAULT-VALUE})")
        String displayName;

        @Option(names = "--jvm-option", paramLabel = "OPTION", description = "extra JVM option for the kernel, e.g. --jvm-option=-Xmx8g (repeatable)")
        List<String> jvmOptions = new ArrayList<>();

        @Option(names = "--classpath", paramLabel = "PATH",
                description = "class path for the kernel instead of the project's target/oneml.jar and target/lib/* (development, tests)")
        String classpath;

        @Override
        public Integer call() throws IOException {
            if (user && prefix != null) {
                throw new IllegalArgumentException("--user and --prefix exclude each other");
            }
            Path home = home();
            Path jar = home.resolve("target/oneml.jar");
            if (classpath == null && (!Files.isRegularFile(jar) || !Files.isDirectory(home.resolve("target/lib")))) {
                throw new IllegalStateException("no " + jar + " and target/lib: build first (mvn -B -DskipTests package, "
                        + "or any ./oneml command builds it)");
            }
            KernelSpec spec = KernelSpec.of(name, displayName, classpath != null ? classpath : KernelSpec.projectClasspath(home), home, jvmOptions);
            Path kernels = user ? KernelSpec.userKernelsDir() : prefix != null ? KernelSpec.prefixKernelsDir(prefix) : KernelSpec.systemKernelsDir();
            Path dir;
            try {
                dir = spec.installInto(kernels);
            } catch (AccessDeniedException e) {
                throw new IllegalStateException("cannot write " + kernels + ": use --user (or --prefix DIR), or run as an administrator");
            }
            System.out.println("Installed kernelspec " + spec.name() + " in " + dir);
            System.out.println("Start Jupyter (jupyter notebook / jupyter lab) and pick \"" + displayName + "\", or: "
                    + "jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=" + spec.name() + " NOTEBOOK.ipynb");
            return 0;
        }

        private static Path home() {
            String home = System.getProperty(ProjectHome.PROPERTY);
            if (home != null && !home.isBlank()) {
                return Path.of(home).toAbsolutePath().normalize();
            }
            return ProjectHome.find("pom.xml").getParent().toAbsolutePath().normalize();
        }
    }
}
