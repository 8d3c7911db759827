package oneml.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/**
 * One place that starts the DJL engine the way oneml needs it: PyTorch, offline (the native library comes
 * from the bundled jar, nothing is downloaded), and a root manager that models hang their memory from.
 */
public final class Engines {
    private static NDManager root;

    private Engines() {}

    public static synchronized NDManager rootManager() {
        if (root == null) {
            System.setProperty("ai.djl.default_engine", System.getProperty("ai.djl.default_engine", "PyTorch"));
            System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
            NativeMemory.keepFreedMemory();
            root = NDManager.newBaseManager();
        }
        return root;
    }

    /**
     * Turns off autograd recording in the calling thread. libtorch's grad mode is per thread and threads
     * other than the one that started the engine (a notebook kernel's, say) begin with it on.
     */
    public static void noGradInThisThread() {
        rootManager();
        ai.djl.pytorch.jni.JniUtils.setGradMode(false);
    }

    /** Seeds libtorch's generator (dropout masks); Java-side randomness takes its own seeds. */
    public static void seed(long seed) {
        rootManager();
        Engine.getInstance().setRandomSeed((int) seed);
    }
}
