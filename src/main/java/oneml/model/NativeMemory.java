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
    }

    private static final LibC LIBC = load();

    private NativeMemory() {}

    private static LibC load() {
        try {
            return Native.load("c", LibC.class);
        } catch (Throwable e) { // not Linux/glibc, or JNA cannot load: trimming is an optimisation only
            return null;
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
