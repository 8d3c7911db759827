package oneml.io;

import java.util.Locale;

/** Element types a safetensors file may hold, with their safetensors names and byte widths. */
public enum StorageType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    private final int bytes;

    StorageType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public boolean isFloating() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** Parses a header dtype such as "BF16"; null when unknown, so the caller can name the file. */
    static StorageType fromHeader(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
