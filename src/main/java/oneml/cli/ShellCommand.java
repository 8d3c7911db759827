package oneml.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** JShell with oneml on the class path and its packages imported. */
@Command(name = "shell", mixinStandardHelpOptions = true, description = "Open JShell with oneml imported (extra arguments: .jsh scripts to run).")
final class ShellCommand implements Callable<Integer> {
    static final String IMPORTS = String.join("\n",
            "import oneml.*;",
            "import oneml.data.*;",
            "import oneml.model.*;",
            "import oneml.peft.*;",
            "import oneml.peft.adapter.Compose;",
            "import oneml.compare.*;",
            "import oneml.viz.*;",
            "import org.knowm.xchart.*;",
            "import java.util.*;",
            "import java.nio.file.*;",
            "import oneml.train.*;",
            "import tech.tablesaw.api.*;",
            "");

    @Parameters(paramLabel = "SCRIPT", arity = "0..*", description = "JShell scripts to run (end them with /exit to return)")
    List<Path> scripts = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path startup = Files.createTempFile("oneml-startup", ".jsh");
        Files.writeString(startup, IMPORTS);
        startup.toFile().deleteOnExit();
        String java = Path.of(System.getProperty("java.home"), "bin", "jshell").toString();
        var command = new ArrayList<String>(List.of(Files.isExecutable(Path.of(java)) ? java : "jshell",
                "--class-path", System.getProperty("java.class.path"),
                "-R-Xss4m", "-R-Dai.djl.offline=true",
                "--startup", "DEFAULT", "--startup", startup.toString()));
        scripts.forEach(s -> command.add(s.toString()));
        return new ProcessBuilder(command).inheritIO().start().waitFor();
    }
}
