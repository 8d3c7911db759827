package oneml.model;

import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Hands freed native memory back to the operating system. A 4-bit base dequantises weights into fresh
 * buffers on every forward pass; glibc keeps the freed pages (its mmap threshold adapts upwards), so the
 * process grows step after step although nothing leaks. {@code malloc_trim(0)} between steps returns them.
 * Elsewhere than glibc this does nothing.
 */
public final class NativeMemory {
    private interface LibC extends Library {
        int malloc_trim(long pad);

        int mallopt(int param, int value);
    }

    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_MMAP_THRESHOLD = -3;

    private static final LibC LIBC = load();

    private NativeMemory() {}

    private static LibC load() {
        try {
            return Native.load("c", LibC.class);
        } catch (Throwable e) { // not Linux/glibc, or JNA cannot load: trimming is an optimisation only
            return null;
        }
    }

    /**
     * Makes glibc keep freed memory for reuse instead of handing it back to the kernel after each step.
     * Training allocates and frees the same few hundred megabytes of activations every step; by default
     * glibc serves big blocks with fresh mmaps and trims the heap top once a free block is at the top, so
     * every step faults its pages in again, and a first touch of a page costs microseconds (tens of
     * milliseconds per step at the embedded shape, more in a virtual machine). With a fixed mmap threshold
     * of 32 MiB (glibc's maximum; fixing it also stops the threshold from drifting) and a trim threshold of
     * 2 GiB, blocks come from the heap and stay there. Peak memory is unchanged: the pages were in use at the
     * peak anyway. {@link #trim} still returns free pages on demand.
     */
    public static void keepFreedMemory() {
        if (LIBC != null) {
            try {
                LIBC.mallopt(M_MMAP_THRESHOLD, 32 << 20);
                LIBC.mallopt(M_TRIM_THRESHOLD, Integer.MAX_VALUE);
            } catch (Throwable e) {
                // not glibc: its allocator has its own policy
            }
        }
    }

    /** Releases free heap pages to the OS; a no-op where glibc is not available. */
    public static void trim() {
        if (LIBC != null) {
            try {
                LIBC.malloc_trim(0);
            } catch (Throwable e) {
                // musl and others lack malloc_trim: nothing to do
            }
        }
    }
}
