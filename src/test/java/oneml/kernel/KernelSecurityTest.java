package oneml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * The kernel process as Jupyter starts it, spoken to over ZeroMQ directly: it binds where the connection file
 * says (127.0.0.1 here, not other interfaces), drops requests that are unsigned, badly signed, signed with
 * another key or malformed (and keeps serving afterwards), answers signed ones with signed replies, and shuts
 * down on a signed shutdown_request. Needs no Jupyter.
 */
class KernelSecurityTest {
    private static final byte[] DELIMITER = "<IDS|MSG>".getBytes(StandardCharsets.US_ASCII);
    private final String session = UUID.randomUUID().toString();

    @Test
    void authenticatesEveryRequest(@TempDir Path tmp) throws Exception {
        int[] ports = freePorts(5);
        String key = UUID.randomUUID().toString();
        JsonObject conn = new JsonObject();
        conn.addProperty("ip", "127.0.0.1");
        conn.addProperty("transport", "tcp");
        conn.addProperty("shell_port", ports[0]);
        conn.addProperty("iopub_port", ports[1]);
        conn.addProperty("stdin_port", ports[2]);
        conn.addProperty("control_port", ports[3]);
        conn.addProperty("hb_port", ports[4]);
        conn.addProperty("signature_scheme", "hmac-sha256");
        conn.addProperty("key", key);
        Path file = tmp.resolve("kernel.json");
        Files.writeString(file, conn.toString());

        List<String> command = new ArrayList<>(KernelSpec.of("t", "t", JupyterSupport.testClasspath(), JupyterSupport.projectDir(), List.of()).argv());
        command.set(command.size() - 1, file.toString());
        long t0 = System.nanoTime();
        Process kernel = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(tmp.resolve("kernel.log").toFile()).start();
        try (ZContext ctx = new ZContext()) {
            ZMQ.Socket shell = ctx.createSocket(SocketType.DEALER);
            shell.connect("tcp://127.0.0.1:" + ports[0]);
            ZMQ.Socket control = ctx.createSocket(SocketType.DEALER);
            control.connect("tcp://127.0.0.1:" + ports[3]);

            // the kernel is up once a signed kernel_info_request is answered
            List<byte[]> reply = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (reply == null && System.nanoTime() < deadline) {
                assertTrue(kernel.isAlive(), "kernel died:\n" + Files.readString(tmp.resolve("kernel.log")));
                send(shell, key, "kernel_info_request", "{}", Signing.GOOD);
                reply = receive(shell, 2000);
            }
            assertNotNull(reply, "no kernel_info_reply:\n" + Files.readString(tmp.resolve("kernel.log")));
            System.out.printf("kernel process start to first kernel_info_reply: %.2f s%n", (System.nanoTime() - t0) / 1e9);
            while (receive(shell, 500) != null) {
                // replies to the retries
            }

            // replies are matched to their request by the parent header, so a late reply to one of the retries above
            // (after a pause of the kernel's JVM) is not taken for an answer to a bad request
            for (Signing bad : List.of(Signing.NONE, Signing.WRONG, Signing.OTHER_KEY, Signing.TAMPERED, Signing.MALFORMED)) {
                String id = send(shell, key, "kernel_info_request", "{}", bad);
                assertNull(replyTo(shell, id, 1500), "the kernel answered a request with signing " + bad);
                id = send(control, key, "kernel_info_request", "{}", bad);
                assertNull(replyTo(control, id, 500), "the control channel answered a request with signing " + bad);
            }

            // still serving, and its replies are signed with the key
            String good = send(shell, key, "kernel_info_request", "{}", Signing.GOOD);
            reply = replyTo(shell, good, 10_000);
            assertNotNull(reply, "no reply to a signed request after the bad ones");
            checkSignature(key, reply);
            JsonObject content = JsonParser.parseString(new String(reply.get(6), StandardCharsets.UTF_8)).getAsJsonObject();
            assertEquals("ok", content.get("status").getAsString());
            assertEquals("java", content.getAsJsonObject("language_info").get("name").getAsString());

            long e0 = System.nanoTime();
            String execute = send(shell, key, "execute_request", "{\"code\":\"6 * 7\",\"silent\":false,\"store_history\":true,"
                    + "\"user_expressions\":{},\"allow_stdin\":false,\"stop_on_error\":true}", Signing.GOOD);
            reply = replyTo(shell, execute, 60_000);
            assertNotNull(reply, "no execute_reply");
            checkSignature(key, reply);
            assertEquals("ok", JsonParser.parseString(new String(reply.get(6), StandardCharsets.UTF_8)).getAsJsonObject().get("status").getAsString());
            System.out.printf("first execute_request round trip (JShell warm-up included): %.0f ms%n", (System.nanoTime() - e0) / 1e6);

            // listening on 127.0.0.1 only, as the connection file says
            InetAddress other = nonLoopbackAddress();
            if (other != null) {
                assertThrows(IOException.class, () -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress(other, ports[0]), 1000);
                    }
                }, "shell port reachable on " + other);
            }

            send(control, key, "shutdown_request", "{\"restart\":false}", Signing.GOOD);
            assertNotNull(receive(control, 10_000), "no shutdown_reply");
            assertTrue(kernel.waitFor(20, TimeUnit.SECONDS), "kernel still running after shutdown_request");
        } finally {
            if (kernel.isAlive()) {
                kernel.destroyForcibly();
            }
        }
        String log = Files.readString(tmp.resolve("kernel.log"));
        assertTrue(log.contains("dropped"), "the kernel should log dropped messages:\n" + log);
        assertFalse(log.contains(key), "the key must never be logged");
    }

    enum Signing { GOOD, NONE, WRONG, OTHER_KEY, TAMPERED, MALFORMED }

    /** Sends a request signed as {@code signing} says; returns its msg_id. */
    private String send(ZMQ.Socket socket, String key, String type, String content, Signing signing) throws Exception {
        String msgId = UUID.randomUUID().toString();
        String header = "{\"msg_id\":\"" + msgId + "\",\"username\":\"test\",\"session\":\"" + session
                + "\",\"date\":\"" + Instant.now() + "\",\"msg_type\":\"" + type + "\",\"version\":\"5.3\"}";
        byte[][] parts = {header.getBytes(StandardCharsets.UTF_8), "{}".getBytes(StandardCharsets.UTF_8),
                "{}".getBytes(StandardCharsets.UTF_8), content.getBytes(StandardCharsets.UTF_8)};
        String signature = switch (signing) {
            case GOOD, TAMPERED, MALFORMED -> hmac(key, parts);
            case NONE -> "";
            case WRONG -> "0".repeat(64);
            case OTHER_KEY -> hmac(key + "x", parts);
        };
        if (signing == Signing.TAMPERED) {
            parts[3] = "{\"code\":\"System.exit(1)\"}".getBytes(StandardCharsets.UTF_8);
        }
        if (signing == Signing.MALFORMED) {
            socket.sendMore(signature); // no <IDS|MSG> delimiter
            socket.send(parts[0]);
            return msgId;
        }
        socket.sendMore(DELIMITER);
        socket.sendMore(signature);
        socket.sendMore(parts[0]);
        socket.sendMore(parts[1]);
        socket.sendMore(parts[2]);
        socket.send(parts[3]);
        return msgId;
    }

    /** The reply whose parent header is the request {@code msgId}, skipping other messages; null after {@code ms}. */
    private static List<byte[]> replyTo(ZMQ.Socket socket, String msgId, int ms) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (true) {
            int left = (int) TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return null;
            }
            List<byte[]> message = receive(socket, left);
            if (message == null) {
                return null;
            }
            if (message.size() > 4) {
                String parent = new String(message.get(4), StandardCharsets.UTF_8);
                if (parent.contains("\"" + msgId + "\"")) {
                    return message;
                }
            }
        }
    }

    /** All frames of the next message (delimiter first) or null after {@code ms}. */
    private static List<byte[]> receive(ZMQ.Socket socket, int ms) {
        socket.setReceiveTimeOut(ms);
        byte[] first = socket.recv();
        if (first == null) {
            return null;
        }
        List<byte[]> frames = new ArrayList<>();
        frames.add(first);
        while (socket.hasReceiveMore()) {
            frames.add(socket.recv());
        }
        int d = 0;
        while (d < frames.size() && !java.util.Arrays.equals(frames.get(d), DELIMITER)) {
            d++;
        }
        // [<IDS|MSG>, signature, header, parent, metadata, content] with anything before the delimiter dropped
        List<byte[]> out = new ArrayList<>(frames.subList(d, frames.size()));
        out.add(0, new byte[0]);
        return out;
    }

    private static void checkSignature(String key, List<byte[]> reply) throws Exception {
        String expected = hmac(key, reply.get(3), reply.get(4), reply.get(5), reply.get(6));
        assertEquals(expected, new String(reply.get(2), StandardCharsets.US_ASCII), "reply signature");
    }

    private static String hmac(String key, byte[]... parts) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.US_ASCII), "HmacSHA256"));
        for (byte[] p : parts) {
            mac.update(p);
        }
        StringBuilder hex = new StringBuilder();
        for (byte b : mac.doFinal()) {
            hex.append(String.format("%02x", b));
        }
        return hex.toString();
    }

    private static int[] freePorts(int n) throws IOException {
        int[] ports = new int[n];
        List<ServerSocket> open = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                open.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : open) {
                s.close();
            }
        }
        return ports;
    }

    private static InetAddress nonLoopbackAddress() throws IOException {
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nif.isUp() || nif.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                    return a;
                }
            }
        }
        return null;
    }
}
