package oneml.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Arithmetic with a constant on arrays that autograd tracks. DJL turns a Java number into a temporary
 * tensor over a JVM-owned direct buffer and closes it right after the operation; libtorch's backward for
 * mul, div and pow keeps that tensor and later reads memory the JVM has freed (random, occasionally NaN
 * gradients). A constant made by libtorch itself ({@code full}) is reference-counted there and stays valid.
 * Use these instead of {@code mul(Number)}, {@code div(Number)} or {@code pow(Number)} in forward passes.
 */
public final class Scalars {
    private Scalars() {}

    /** x * factor, safe under autograd; the constant lives in x's manager. */
    public static NDArray times(NDArray x, double factor) {
        return x.mul(constant(x, factor));
    }

    /** x / divisor, safe under autograd. */
    public static NDArray dividedBy(NDArray x, double divisor) {
        return x.div(constant(x, divisor));
    }

    private static NDArray constant(NDArray like, double value) {
        return like.getManager().full(new Shape(), (float) value, like.getDataType());
    }
}
