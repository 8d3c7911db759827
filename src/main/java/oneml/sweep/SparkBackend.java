package oneml.sweep;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import oneml.io.AtomicFiles;
import oneml.io.ProjectHome;

/**
 * The Spark backend, seen from the sweep's JVM, which never loads Spark: it starts a driver JVM
 * ({@code oneml.sweep.spark.SparkSweepDriver}) with Spark's jars on its class path, hands it the trials, relays its
 * progress and reads back the per-trial result files it writes. Each trial is a Spark task that runs the trial in a
 * child JVM on the executor's machine ({@link TrialLauncher}), with {@code threads} cores ({@code spark.task.cpus} and
 * {@code spark.executor.cores}, so one trial runs per executor at a time).
 *
 * <p>What executors need, at the same paths as on this machine (one machine, or a shared install): oneml's class path
 * (for the task and the trial's JVM) and the project folder (the embedded model and shipped datasets), plus the model
 * folder and data the spec names. Results reach this machine through Spark; resumable checkpoints live in
 * {@code out/runs}, so with a shared output folder a retried trial resumes wherever it lands, and otherwise starts over.
 */
final class SparkBackend {
    static final String DRIVER = "oneml.sweep.spark.SparkSweepDriver";
    static final String LOG4J = "-Dlog4j2.configurationFile=classpath:oneml/sweep/spark/log4j2.properties";
    /** What Spark's own launcher opens for Java 17 (JavaModuleOptions); unknown ones are ignored on other Javas. */
    static final List<String> JAVA_FLAGS = List.of("-XX:+IgnoreUnrecognizedVMOptions", "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED", "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.security.action=ALL-UNNAMED", "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
            "-Djdk.reflect.useDirectMethodHandle=false", "-Dio.netty.tryReflectionSetAccessible=true");

    /**
     * For Spark's own JVMs (driver, executors, master, workers), which mostly wait: the serial collector and the quick
     * JIT tier only, so that on a small machine they leave the cores to the trials (measured by {@code sweep-bench}).
     */
    static final List<String> LIGHT_JVM = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1");

    private static final Pattern LOCAL = Pattern.compile("local(\\[(\\*|[1-9]\\d*)(,\\s*[1-9]\\d*)?])?");
    private static final Pattern STANDALONE = Pattern.compile("spark://[^\\s:/,]+:\\d+(,[^\\s:/,]+:\\d+)*");

    private SparkBackend() {}

    /**
     * Checks a master URL before anything starts: its form, and for a standalone master that some listed host
     * accepts connections.
     */
    static void checkMaster(String master) {
        String m = master == null ? "" : master.trim();
        if (LOCAL.matcher(m).matches() || m.equals("yarn") || m.startsWith("k8s://")) {
            return;
        }
        if (!STANDALONE.matcher(m).matches()) {
            throw new IllegalArgumentException("'" + master + "' is not a Spark master URL: use local[N] (N trials at a time in this"
                    + " machine's driver), spark://HOST:PORT (a standalone cluster), yarn or k8s://https://HOST:PORT");
        }
        List<String> problems = new ArrayList<>();
        for (String hostPort : m.substring("spark://".length()).split(",")) {
            int colon = hostPort.lastIndexOf(':');
            String host = hostPort.substring(0, colon);
            int port = Integer.parseInt(hostPort.substring(colon + 1));
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 3000);
                return;
            } catch (IOException e) {
                problems.add(hostPort + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            }
        }
        throw new IllegalArgumentException("cannot reach the Spark master " + m + " (" + String.join("; ", problems) + "): start it"
                + " (Spark's sbin/start-master.sh and start-worker.sh), check the host and port, or run on this machine with --master local[N]");
    }

    /**
     * Runs {@code trials} on {@code master} and returns the results of those that ended, in plan order (an interrupt
     * asks the driver to start no more; the trials in flight finish and are recorded).
     */
    static List<TrialResult> run(Setup setup, List<Trial> trials, Path out, String master, int threads, Map<String, String> conf,
            SweepProgress progress) {
        Consumer<String> say = progress::note;
        if (trials.isEmpty()) {
            return List.of();
        }
        checkMaster(master);
        Path outDir = out.toAbsolutePath().normalize();
        Path sparkDir = outDir.resolve("spark");
        List<String> classPath = absolute(System.getProperty("java.class.path"));
        List<String> withoutSimpleLogger = withoutSimpleLogger(classPath);
        List<String> driverClassPath = sparkClassPath();
        String home = Path.of(System.getProperty(ProjectHome.PROPERTY, ".")).toAbsolutePath().normalize().toString();

        JsonObject drive = new JsonObject();
        drive.addProperty("master", master.trim());
        drive.addProperty("threads", threads);
        drive.addProperty("out", outDir.toString());
        drive.addProperty("home", home);
        drive.addProperty("trial_class_path", String.join(File.pathSeparator, classPath));
        drive.addProperty("executor_class_path", String.join(File.pathSeparator, withoutSimpleLogger));
        drive.addProperty("executor_java_options", String.join(" ", LIGHT_JVM) + " " + LOG4J);
        JsonObject confJson = new JsonObject();
        conf.forEach(confJson::addProperty);
        drive.add("conf", confJson);
        JsonArray jobs = new JsonArray();
        Map<String, Trial> byId = new LinkedHashMap<>();
        for (Trial t : trials) {
            jobs.add(TrialProcess.job(setup, t, LocalBackend.runDir(outDir, t)));
            byId.put(t.id(), t);
            try {
                Files.deleteIfExists(LocalBackend.resultFile(outDir, t)); // a retryable result from an earlier run is replaced
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        drive.add("jobs", jobs);
        Path driveFile = sparkDir.resolve("drive.json");
        AtomicFiles.writeString(driveFile, new GsonBuilder().setPrettyPrinting().create().toJson(drive));

        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JAVA_FLAGS);
        cmd.addAll(LIGHT_JVM);
        cmd.addAll(List.of("-Xmx1g", LOG4J, "-D" + ProjectHome.PROPERTY + "=" + home, "-cp", String.join(File.pathSeparator, driverClassPath),
                DRIVER, driveFile.toString()));
        Path log = sparkDir.resolve("driver.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        if (isOnThisMachine(master)) {
            pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1"); // no guessing of the machine's address, and no warning about it
        }
        say.accept(String.format(Locale.ROOT, "Spark driver: master %s, %d %s per trial, log %s", master.trim(), threads,
                threads == 1 ? "core" : "cores", log));
        int code;
        boolean interrupted = false;
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the Spark driver: " + e.getMessage(), e);
        }
        Thread relay = relay(p, byId, outDir, progress);
        while (true) {
            try {
                code = p.waitFor();
                relay.join();
                break;
            } catch (InterruptedException e) {
                if (!interrupted) {
                    interrupted = true;
                    say.accept("interrupted: asking the Spark driver to finish the trials in flight and start no more");
                    try {
                        OutputStream in = p.getOutputStream();
                        in.write("stop\n".getBytes(StandardCharsets.UTF_8));
                        in.flush();
                    } catch (IOException gone) {
                        // the driver ended meanwhile
                    }
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (code != 0) {
            throw new IllegalStateException("the Spark driver exited with code " + code + TrialLauncher.lastLines(log) + " (whole log: " + log + ")");
        }
        List<TrialResult> results = new ArrayList<>();
        for (Trial t : trials) {
            Path f = LocalBackend.resultFile(outDir, t);
            if (Files.isRegularFile(f)) {
                results.add(TrialResult.load(f));
            }
        }
        return results;
    }

    /** Passes the driver's lines on: its markers become the progress's events, the rest notes. */
    private static Thread relay(Process p, Map<String, Trial> byId, Path out, SweepProgress progress) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Trial trial = line.startsWith("@") ? byId.get(line.substring(line.indexOf(' ') + 1).trim()) : null;
                    if (line.startsWith("@start ") && trial != null) {
                        progress.started(trial);
                    } else if (line.startsWith("@end ") && trial != null) {
                        progress.ended(TrialResult.load(LocalBackend.resultFile(out, trial)));
                    } else if (line.startsWith("@slots ")) {
                        String n = line.substring(7).trim();
                        progress.note("Spark: " + n + (n.equals("1") ? " trial" : " trials") + " can run at once");
                    } else if (!line.startsWith("@")) {
                        progress.note(line);
                    }
                }
            } catch (IOException | RuntimeException e) {
                progress.note("lost the Spark driver's output: " + e.getMessage());
            }
        }, "oneml-spark-relay");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Trials at a time, as far as this JVM can tell before the driver counts executors: N / cores per trial for local[N]. */
    static int expectedSlots(String master, int threads, int parallel) {
        var m = LOCAL.matcher(master.trim());
        if (m.matches() && m.group(2) != null) {
            int cores = m.group(2).equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(m.group(2));
            return Math.max(1, cores / threads);
        }
        return m.matches() ? 1 : Math.max(1, parallel);
    }

    static boolean isOnThisMachine(String master) {
        String m = master.trim();
        return LOCAL.matcher(m).matches() || m.startsWith("spark://127.0.0.1:") || m.startsWith("spark://localhost:");
    }

    /**
     * The class path of a JVM that runs Spark: this one's, without slf4j-simple (Spark logs through log4j, and two
     * SLF4J providers make a warning), plus Spark's jars when this JVM does not have them.
     */
    static List<String> sparkClassPath() {
        List<String> classPath = absolute(System.getProperty("java.class.path"));
        List<String> all = new ArrayList<>(withoutSimpleLogger(classPath));
        all.addAll(sparkJars(classPath));
        return all;
    }

    private static List<String> withoutSimpleLogger(List<String> classPath) {
        return classPath.stream().filter(e -> !Path.of(e).getFileName().toString().startsWith("slf4j-simple")).toList();
    }

    /** Spark's jars, when this JVM does not have them already: {@code target/spark-lib}, which {@code mvn package} fills. */
    private static List<String> sparkJars(List<String> classPath) {
        if (classPath.stream().anyMatch(e -> Path.of(e).getFileName().toString().startsWith("spark-core_"))) {
            return List.of();
        }
        Path lib;
        try {
            lib = ProjectHome.find("target/spark-lib");
        } catch (IllegalStateException e) {
            throw new IllegalStateException("the Spark backend needs Spark's jars in target/spark-lib, which is not there: run"
                    + " `mvn -B -DskipTests package` in the oneml folder (./oneml does it when sources change)", e);
        }
        try (Stream<Path> jars = Files.list(lib)) {
            List<String> list = jars.filter(j -> j.toString().endsWith(".jar")).map(j -> j.toAbsolutePath().toString()).sorted().toList();
            if (list.stream().noneMatch(j -> Path.of(j).getFileName().toString().startsWith("spark-core_"))) {
                throw new IllegalStateException(lib + " has no spark-core jar: run `mvn -B -DskipTests package` in the oneml folder");
            }
            return list;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + lib + ": " + e.getMessage(), e);
        }
    }

    private static List<String> absolute(String classPath) {
        return Stream.of(classPath.split(File.pathSeparator)).filter(e -> !e.isBlank()).map(e -> Path.of(e).toAbsolutePath().normalize().toString()).toList();
    }
}
