package oneml.cli;

import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./oneml} command line: one subcommand per job. */
@Command(name = "oneml", mixinStandardHelpOptions = true, version = "oneml 0.1.0",
        description = "Parameter-efficient fine-tuning workbench (LoRA, DoRA, QLoRA, IA3, prompt and prefix tuning, adapters) on DJL + libtorch, offline.",
        subcommands = {CompareCommand.class, SweepCommand.class, TrainCommand.class, EvalCommand.class, GenerateCommand.class, InfoCommand.class, BenchCommand.class, SweepBenchCommand.class,
                ShellCommand.class, KernelCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // user errors (bad config, bad file, bad option value) are one clear line, not a stack trace
            if (e instanceof IllegalArgumentException || e instanceof IllegalStateException || e instanceof UncheckedIOException) {
                commandLine.getErr().println("error: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
