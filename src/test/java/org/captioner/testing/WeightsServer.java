package org.captioner.testing;

import com.sun.net.httpserver.HttpServer;
import org.captioner.encoder.EncoderType;
import org.captioner.util.Hashing;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * A loopback HTTP server standing in for the internet: it serves the encoder weights of ../shared/weights under
 * their pinned file names (matched by SHA-256), as the pinned URLs would. The JDK's server is a test fixture
 * here, not product code. It can tamper with the bytes or break the connection off half-way.
 */
public final class WeightsServer implements AutoCloseable {
    private final HttpServer server;
    public final AtomicInteger requests = new AtomicInteger();
    /** What the server does to the bytes before sending them (identity: a good download). */
    public volatile UnaryOperator<byte[]> tamper = b -> b;
    /** Announce the full length but send only half, then close. */
    public volatile boolean breakOff;

    public WeightsServer() throws IOException {
        Map<String, Path> files = new HashMap<>();
        try (var s = Files.list(SharedData.require("weights"))) {
            for (Path f : s.toList()) {
                String sha = Hashing.sha256(f);
                for (EncoderType t : EncoderType.values()) {
                    if (t.pinned != null && t.pinned.sha256().equals(sha)) files.put(t.pinned.fileName(), f);
                }
            }
        }
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/w/", ex -> {
            requests.incrementAndGet();
            Path f = files.get(ex.getRequestURI().getPath().substring(3));
            if (f == null) {
                ex.sendResponseHeaders(404, -1);
                ex.close();
                return;
            }
            byte[] body = tamper.apply(Files.readAllBytes(f));
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body, 0, breakOff ? body.length / 2 : body.length);
            } catch (IOException ignored) {
                // the client may give up first
            }
        });
        server.start();
    }

    /** The base URL to use as CAPTIONER_WEIGHTS_MIRROR. */
    public String mirror() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/w";
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
