package oneml.kernel;

import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.channels.ShellChannel;
import org.dflib.jjava.jupyter.channels.ShellReplyEnvironment;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;
import org.dflib.jjava.jupyter.messages.HMACGenerator;
import org.dflib.jjava.jupyter.messages.Message;
import org.dflib.jjava.jupyter.messages.MessageContext;
import org.dflib.jjava.jupyter.messages.publish.PublishStatus;
import org.zeromq.ZMQ;

/**
 * The kernel's sockets, bound where the connection file says ({@code transport://ip:port}), with shell and
 * control replaced by {@link SignedShellChannel}s that authenticate every request. Heartbeat, stdin and IOPub
 * are the base's. With an empty {@code key} (Jupyter's "no authentication") nothing is checked, as the
 * protocol says; Jupyter always writes a key.
 *
 * <p>Replies publish on IOPub through {@link InterruptSafeReplies}: an interrupted cell thread can still print and
 * display (ZeroMQ refuses to send from a thread whose interrupt flag is set).
 */
final class SecureConnection extends JupyterConnection {
    private final KernelConnectionProperties props;
    private final ZMQ.Context context = ZMQ.context(1);
    private final SignedShellChannel signedShell;
    private final SignedShellChannel signedControl;
    private volatile boolean connected;
    private volatile boolean closed;

    SecureConnection(KernelConnectionProperties props) throws NoSuchAlgorithmException, InvalidKeyException {
        super(props);
        this.props = props;
        boolean authenticate = props.getKey() != null && !props.getKey().isEmpty();
        HMACGenerator hmac = props.createHMACGenerator();
        this.signedShell = new SignedShellChannel(context, hmac, authenticate, false, this);
        this.signedControl = new SignedShellChannel(context, hmac, authenticate, true, this);
    }

    @Override
    public synchronized void connect() {
        if (connected) {
            return;
        }
        heartbeat.bind(props);
        stdin.bind(props);
        iopub.bind(props);
        signedControl.bind(props);
        signedShell.bind(props);
        iopub.sendMessage(new Message<>(null, PublishStatus.MESSAGE_TYPE, PublishStatus.STARTING));
        connected = true;
    }

    @Override
    public ShellReplyEnvironment prepareReplyEnv(ShellChannel channel, MessageContext context) {
        return new InterruptSafeReplies(channel, stdin, iopub, context);
    }

    /**
     * Publishes with the calling thread's interrupt flag cleared for the send and set again afterwards. JeroMQ
     * fails a send from an interrupted thread with {@code ZMQException: Errno 4} (EINTR), so without this the
     * first print, progress update or display of a cell being interrupted (a training run finishing its step,
     * code that catches the interrupt and reports) threw into the cell instead of reaching the notebook.
     */
    static final class InterruptSafeReplies extends ShellReplyEnvironment {
        InterruptSafeReplies(ShellChannel channel, org.dflib.jjava.jupyter.channels.StdinChannel stdin,
                org.dflib.jjava.jupyter.channels.JupyterSocket iopub, MessageContext context) {
            super(channel, stdin, iopub, context);
        }

        @Override
        public void publish(Message<?> message) {
            boolean interrupted = Thread.interrupted();
            try {
                super.publish(message);
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    long droppedMessages() {
        return signedShell.dropped() + signedControl.dropped();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        signedControl.close();
        signedShell.close();
        super.close();
        context.close();
    }

    @Override
    public void waitUntilClose() {
        signedShell.waitUntilClose();
        signedControl.waitUntilClose();
        super.waitUntilClose();
    }
}
