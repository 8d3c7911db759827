package oneml.kernel;

import java.util.logging.Level;

/** The kernel as an operating-system process: where its logs go, and that it ends with the frontend that started it. */
final class KernelProcess {
    private KernelProcess() {}

    /**
     * Ends the kernel when the process that started it is gone (JPY_PARENT_PID, set by jupyter_client), so a
     * killed frontend never leaves a JVM behind.
     */
    static void watchParent(SecureConnection connection) {
        String pid = System.getenv("JPY_PARENT_PID");
        if (pid == null || pid.isBlank()) {
            return;
        }
        java.util.Optional<ProcessHandle> parent;
        try {
            parent = ProcessHandle.of(Long.parseLong(pid.trim()));
        } catch (NumberFormatException e) {
            return;
        }
        if (parent.isEmpty()) {
            return;
        }
        Thread watcher = new Thread(() -> {
            parent.get().onExit().join();
            System.err.println("oneml kernel: parent process " + pid + " ended; shutting down");
            connection.close();
            Runtime.getRuntime().halt(0);
        }, "oneml-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    /**
     * Kernel logs go to the kernel's stderr (the Jupyter server's log), never into a cell: slf4j-simple keeps the
     * stream it found at start-up, and only warnings are logged; JUL (JShell, the resolver) is quiet too.
     */
    static void quietLogs() {
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        setIfAbsent("org.slf4j.simpleLogger.cacheOutputStream", "true");
        setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.setLevel(Level.WARNING);
        for (var h : root.getHandlers()) {
            h.setLevel(Level.WARNING);
        }
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
