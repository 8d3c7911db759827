package oneml.kernel;

import java.nio.charset.Charset;
import org.dflib.jjava.jupyter.channels.ShellReplyEnvironment;
import org.dflib.jjava.jupyter.kernel.JupyterIO;

/**
 * The kernel's Jupyter I/O, kept attached to the last cell after it finishes (the base detaches it, so
 * {@code display}, {@code updateDisplay} and live training progress from a thread the cell started were
 * silently dropped). Output from such a thread goes to the cell that started it, as in IPython; the next cell
 * takes the streams over. {@code System.out} itself is still restored after each cell, so plain prints from
 * background threads go to the kernel's log, not into a cell.
 */
final class StickyIO extends JupyterIO {
    StickyIO(Charset encoding) {
        super(encoding);
    }

    @Override
    protected void retractEnv(ShellReplyEnvironment env) {
        // keep the finished cell's environment until the next cell's replaces it
    }
}
