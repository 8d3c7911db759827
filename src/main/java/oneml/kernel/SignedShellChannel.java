package oneml.kernel;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.gson.reflect.TypeToken;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.channels.ShellChannel;
import org.dflib.jjava.jupyter.channels.ShellHandler;
import org.dflib.jjava.jupyter.channels.ShellReplyEnvironment;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;
import org.dflib.jjava.jupyter.messages.HMACGenerator;
import org.dflib.jjava.jupyter.messages.Header;
import org.dflib.jjava.jupyter.messages.KernelTimestamp;
import org.dflib.jjava.jupyter.messages.Message;
import org.dflib.jjava.jupyter.messages.MessageType;
import org.dflib.jjava.jupyter.messages.adapters.HeaderAdapter;
import org.dflib.jjava.jupyter.messages.adapters.HistoryRequestAdapter;
import org.dflib.jjava.jupyter.messages.adapters.KernelTimestampAdapter;
import org.dflib.jjava.jupyter.messages.adapters.MessageTypeAdapter;
import org.dflib.jjava.jupyter.messages.request.HistoryRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.ZMQ;

/**
 * A shell or control channel that authenticates every request before anything reads it, and survives bad input.
 *
 * <p>The base channel compares signatures with {@code String.equals} (timing leaks), assumes well-formed
 * multipart messages (a message without the {@code <IDS|MSG>} delimiter swallows the next one), and lets any
 * exception while reading end its polling thread: one unsigned message silences the kernel for good. This
 * channel reads all frames of a message first, checks the HMAC over header, parent header, metadata and content
 * with a constant-time comparison, and drops (with a warning) any message that is unsigned, badly signed,
 * malformed or of an unknown type. It also blocks in {@code poll} instead of sleeping between polls, so requests
 * are handled as soon as they arrive.
 */
final class SignedShellChannel extends ShellChannel {
    private static final Logger LOG = LoggerFactory.getLogger(SignedShellChannel.class);
    private static final byte[] DELIMITER = "<IDS|MSG>".getBytes(StandardCharsets.US_ASCII);
    private static final Type METADATA = new TypeToken<Map<String, Object>>() {}.getType();
    private static final Gson GSON = new GsonBuilder()
            .registerTypeAdapter(KernelTimestamp.class, KernelTimestampAdapter.INSTANCE)
            .registerTypeAdapter(Header.class, HeaderAdapter.INSTANCE)
            .registerTypeAdapter(MessageType.class, MessageTypeAdapter.INSTANCE)
            .registerTypeAdapter(HistoryRequest.class, HistoryRequestAdapter.INSTANCE)
            .create();

    private final String name;
    private final boolean authenticate;
    private final JupyterConnection connection;
    private final boolean control;
    private volatile boolean running;
    private Thread thread;
    private volatile long dropped;

    SignedShellChannel(ZMQ.Context context, HMACGenerator hmac, boolean authenticate, boolean control, JupyterConnection connection) {
        super(context, hmac, control, connection);
        this.authenticate = authenticate;
        this.control = control;
        this.connection = connection;
        this.name = control ? "control" : "shell";
    }

    /** Messages dropped so far (bad signature, malformed, unknown type). */
    long dropped() {
        return dropped;
    }

    @Override
    public void bind(KernelConnectionProperties props) {
        String address = formatAddress(props.getTransport(), props.getIp(),
                control ? props.getControlPort() : props.getShellPort());
        super.bind(address);
        LOG.debug("{} channel bound to {}", name, address);
        ZMQ.Poller poller = ctx.poller(1);
        poller.register(this, ZMQ.Poller.POLLIN);
        running = true;
        thread = new Thread(() -> loop(poller), "oneml-" + name);
        thread.setDaemon(false);
        thread.start();
    }

    private void loop(ZMQ.Poller poller) {
        try {
            while (running && !Thread.currentThread().isInterrupted()) {
                int events;
                try {
                    events = poller.poll(200);
                } catch (RuntimeException e) {
                    if (!running) {
                        break;
                    }
                    LOG.warn("{} poll failed: {}", name, e.toString());
                    continue;
                }
                if (events > 0 && poller.pollin(0)) {
                    handleOne();
                }
            }
        } finally {
            running = false;
            poller.close();
        }
    }

    private void handleOne() {
        List<byte[]> frames = readFrames();
        if (frames == null) {
            return;
        }
        Message<?> message;
        try {
            message = parse(frames);
        } catch (RuntimeException e) {
            drop("malformed message (" + e.getMessage() + ")");
            return;
        }
        if (message == null) {
            return;
        }
        @SuppressWarnings({"rawtypes", "unchecked"})
        ShellHandler<Object> handler = (ShellHandler) connection.getHandler(message.getHeader().getType());
        if (handler == null) {
            LOG.warn("{}: no handler for {}", name, message.getHeader().getType().getName());
            return;
        }
        ShellReplyEnvironment env = connection.prepareReplyEnv(this, message);
        try {
            @SuppressWarnings("unchecked")
            Message<Object> typed = (Message<Object>) message;
            handler.handle(env, typed);
        } catch (Exception e) {
            LOG.warn("{}: error handling {}: {}", name, message.getHeader().getType().getName(), e.toString());
        } finally {
            try {
                env.resolveDeferrals();
            } catch (RuntimeException e) {
                LOG.warn("{}: could not send deferred replies: {}", name, e.toString());
            }
        }
        if (env.isMarkedForShutdown()) {
            running = false;
            connection.close();
        }
    }

    /** All frames of the next message, or null when none could be read. */
    private synchronized List<byte[]> readFrames() {
        List<byte[]> frames = new ArrayList<>();
        byte[] frame = recv(ZMQ.DONTWAIT);
        if (frame == null) {
            return null;
        }
        frames.add(frame);
        while (hasReceiveMore()) {
            frames.add(recv());
        }
        return frames;
    }

    private Message<?> parse(List<byte[]> frames) {
        int delimiter = -1;
        for (int i = 0; i < frames.size(); i++) {
            if (Arrays.equals(DELIMITER, frames.get(i))) {
                delimiter = i;
                break;
            }
        }
        if (delimiter < 0 || frames.size() < delimiter + 6) {
            drop("malformed message (" + frames.size() + " frames, no complete <IDS|MSG> part)");
            return null;
        }
        List<byte[]> identities = new ArrayList<>(frames.subList(0, delimiter));
        byte[] signature = frames.get(delimiter + 1);
        byte[] header = frames.get(delimiter + 2);
        byte[] parent = frames.get(delimiter + 3);
        byte[] metadata = frames.get(delimiter + 4);
        byte[] content = frames.get(delimiter + 5);
        List<byte[]> buffers = new ArrayList<>(frames.subList(delimiter + 6, frames.size()));
        if (authenticate) {
            byte[] expected = hmacGenerator.calculateSignature(header, parent, metadata, content).getBytes(StandardCharsets.US_ASCII);
            if (!MessageDigest.isEqual(expected, signature)) {
                drop(signature.length == 0 ? "unsigned message" : "message with a bad signature");
                return null;
            }
        }
        Header<?> h = GSON.fromJson(new String(header, StandardCharsets.UTF_8), Header.class);
        if (h == null || h.getType() == null) {
            drop("message of unknown type");
            return null;
        }
        Header<?> parentHeader = null;
        JsonElement parentJson = JsonParser.parseString(new String(parent, StandardCharsets.UTF_8));
        if (parentJson.isJsonObject() && !parentJson.getAsJsonObject().isEmpty()) {
            parentHeader = GSON.fromJson(parentJson, Header.class);
        }
        Map<String, Object> meta = GSON.fromJson(new String(metadata, StandardCharsets.UTF_8), METADATA);
        Object body = GSON.fromJson(new String(content, StandardCharsets.UTF_8), h.getType().getContentType());
        @SuppressWarnings({"rawtypes", "unchecked"})
        Message<?> m = new Message(identities, h, parentHeader, meta, body, buffers);
        return m;
    }

    private void drop(String why) {
        dropped++;
        LOG.warn("{} channel dropped a {}", name, why);
    }

    @Override
    public void close() {
        running = false;
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        super.close();
    }

    @Override
    public void waitUntilClose() {
        Thread t = thread;
        if (t != null) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
