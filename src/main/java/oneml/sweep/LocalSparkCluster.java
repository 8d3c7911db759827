package oneml.sweep;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import oneml.io.AtomicFiles;

/**
 * A real Spark standalone cluster on 127.0.0.1: a master and {@code workers} worker JVMs started from oneml's own class
 * path (nothing downloaded, nothing installed), for trying {@code --backend spark} against a cluster and for the tests
 * and benchmarks. Workers start executors through Spark's launcher, which wants a Spark home: this class makes one in
 * {@code dir/spark-home} ({@code jars/} links to the class path's jars, {@code conf/} holds the quiet logging settings).
 * {@link #close()} stops every JVM it started; executors stop with their worker.
 */
public final class LocalSparkCluster implements AutoCloseable {
    private static final Pattern ALIVE_WORKERS = Pattern.compile("\"aliveworkers\"\\s*:\\s*(\\d+)");

    private final Path dir;
    private final int masterPort;
    private final int masterUiPort;
    private final Process master;
    private final List<Process> workers = new ArrayList<>();

    private LocalSparkCluster(Path dir, int masterPort, int masterUiPort, Process master) {
        this.dir = dir;
        this.masterPort = masterPort;
        this.masterUiPort = masterUiPort;
        this.master = master;
    }

    /** Starts a master and {@code workers} workers of {@code coresEach} cores each, and waits until all have registered. */
    public static LocalSparkCluster start(Path dir, int workers, int coresEach) {
        if (workers < 1 || coresEach < 1) {
            throw new IllegalArgumentException("a cluster needs at least one worker of at least one core, got " + workers + " x " + coresEach);
        }
        Path home = dir.toAbsolutePath().normalize();
        List<String> classPath = SparkBackend.sparkClassPath();
        Path sparkHome = sparkHome(home.resolve("spark-home"), classPath);
        LocalSparkCluster c;
        try {
            int port = freePort();
            int ui = freePort();
            c = new LocalSparkCluster(home, port, ui, java(home.resolve("master.log"), sparkHome, classPath, "org.apache.spark.deploy.master.Master",
                    "--host", "127.0.0.1", "--port", String.valueOf(port), "--webui-port", String.valueOf(ui)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a Spark master: " + e.getMessage(), e);
        }
        try {
            c.waitFor(() -> c.reachable(), "the master to listen on port " + c.masterPort, home.resolve("master.log"));
            for (int i = 0; i < workers; i++) {
                c.startWorker(i, coresEach);
            }
            c.waitFor(() -> c.aliveWorkers() == workers, workers + " workers to register", home.resolve("worker-0.log"));
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** The URL to give {@code Sweep.spark} or {@code --master}. */
    public String masterUrl() {
        return "spark://127.0.0.1:" + masterPort;
    }

    /** The worker JVMs, in start order. */
    public List<ProcessHandle> workers() {
        return workers.stream().map(Process::toHandle).toList();
    }

    /** Kills worker {@code i} at once (SIGKILL), as a machine failure would; its executors see it go and exit. */
    public void killWorker(int i) {
        workers.get(i).destroyForcibly();
    }

    /** Workers the master counts as alive (from its status page), or -1 when it cannot be asked. */
    public int aliveWorkers() {
        try {
            HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + masterUiPort + "/json/")).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.ofString());
            Matcher m = ALIVE_WORKERS.matcher(r.body());
            return m.find() ? Integer.parseInt(m.group(1)) : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public void close() {
        List<Process> all = new ArrayList<>(workers);
        all.add(master);
        for (Process p : all) {
            p.descendants().forEach(ProcessHandle::destroyForcibly); // executors, should a worker be slow to take them along
            p.destroyForcibly();
        }
        for (Process p : all) {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        AtomicFiles.deleteTree(dir.resolve("spark-home")); // links to jars; the logs and work folders stay
    }

    @Override
    public String toString() {
        return "LocalSparkCluster(" + masterUrl() + ", " + workers.size() + " workers, logs in " + dir + ")";
    }

    private void startWorker(int i, int cores) {
        try {
            Path work = Files.createDirectories(dir.resolve("work-" + i));
            workers.add(java(dir.resolve("worker-" + i + ".log"), dir.resolve("spark-home"), SparkBackend.sparkClassPath(),
                    "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", String.valueOf(cores), "--memory", "1g",
                    "--work-dir", work.toString(), "--webui-port", String.valueOf(freePort()), masterUrl()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start Spark worker " + i + ": " + e.getMessage(), e);
        }
    }

    private boolean reachable() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", masterPort), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void waitFor(java.util.function.BooleanSupplier ready, String what, Path log) {
        long deadline = System.nanoTime() + 90_000_000_000L;
        while (!ready.getAsBoolean()) {
            if (!master.isAlive() || System.nanoTime() > deadline) {
                close();
                throw new IllegalStateException("the local Spark cluster did not start: waited for " + what + TrialLauncher.lastLines(log)
                        + " (logs in " + dir + ")");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while starting the local Spark cluster");
            }
        }
    }

    private static Process java(Path log, Path sparkHome, List<String> classPath, String main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(SparkBackend.JAVA_FLAGS);
        cmd.addAll(SparkBackend.LIGHT_JVM);
        cmd.addAll(List.of("-Xmx256m", SparkBackend.LOG4J, "-cp", String.join(File.pathSeparator, classPath), main));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        return pb.start();
    }

    /** The folder Spark's launcher takes for a Spark install: jars/ (links) and conf/ (logging). */
    private static Path sparkHome(Path home, List<String> classPath) {
        try {
            Path jars = Files.createDirectories(home.resolve("jars"));
            for (String entry : classPath) {
                Path jar = Path.of(entry);
                Path link = jars.resolve(jar.getFileName());
                if (entry.endsWith(".jar") && Files.isRegularFile(jar) && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createSymbolicLink(link, jar);
                }
            }
            Path conf = Files.createDirectories(home.resolve("conf"));
            try (InputStream in = LocalSparkCluster.class.getResourceAsStream("/oneml/sweep/spark/log4j2.properties")) {
                if (in != null) {
                    Files.copy(in, conf.resolve("log4j2.properties"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return home;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a Spark home in " + home + ": " + e.getMessage(), e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
