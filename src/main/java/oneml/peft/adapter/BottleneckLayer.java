package oneml.peft.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;

/**
 * One adapter at one tap of one block: {@code delta(x) = W_up f(W_down x + b_down) + b_up} with W_down
 * [m, hidden] and W_up [hidden, m] (nn.Linear layout). The caller adds the delta to x.
 *
 * <p>The step's array comes first in every operation, so results belong to the step's manager and not
 * to the adapter's long-lived one; no Java numbers enter the graph (see {@code oneml.model.Scalars}).
 */
final class BottleneckLayer {
    final NDArray down;
    final NDArray downBias;
    final NDArray up;
    final NDArray upBias;
    private final String nonLinearity;

    BottleneckLayer(NDArray down, NDArray downBias, NDArray up, NDArray upBias, String nonLinearity) {
        this.down = down;
        this.downBias = downBias;
        this.up = up;
        this.upBias = upBias;
        this.nonLinearity = nonLinearity;
    }

    NDArray delta(NDArray x, boolean training, float dropout) {
        NDArray z = Linear.linear(x, down, downBias).singletonOrThrow();
        NDArray y = Linear.linear(activate(z), up, upBias).singletonOrThrow();
        return training && dropout > 0 ? Dropout.dropout(y, dropout, true).singletonOrThrow() : y;
    }

    private NDArray activate(NDArray z) {
        switch (nonLinearity) {
            case "relu":
                return Activation.relu(z);
            case "gelu":
                return Activation.gelu(z);
            case "tanh":
                return Activation.tanh(z);
            default: // swish / silu; Activation.swish multiplies by a Java number, which autograd must not see
                return z.mul(Activation.sigmoid(z));
        }
    }

    long size() {
        return down.size() + downBias.size() + up.size() + upBias.size();
    }
}
