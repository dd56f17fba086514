package org.captioner.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.pipeline.CaptionPipeline;
import org.captioner.testing.SharedData;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What the serve tests share: real SqueezeNet weights, a small untrained attention decoder (its captions are
 * nonsense but deterministic, and it has attention maps), COCO photos, and an HTTP client.
 */
final class ServeFixture {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private ServeFixture() {
    }

    /** Writes the model bundle under dir/model and returns its folder. */
    static Path model(Path dir) throws IOException {
        return org.captioner.testing.TinyModels.squeezenetAttention(dir, "serve test fixture");
    }

    static CaptionPipeline captioner(Path model) throws IOException {
        return CaptionPipeline.load(model, SharedData.squeezenetWeights());
    }

    /** A server over {@code p} with the CLI's default options (beam 3, the model's length alpha). */
    static CaptionServer start(CaptionPipeline p, ServeOptions o) {
        return CaptionServer.start(p, p.options(3, 1, null, false, 1.0, 0, 42), o);
    }

    static List<Path> photos(int n) throws IOException {
        try (var s = Files.list(SharedData.require("data/coco/val2017"))) {
            return s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(n).toList();
        }
    }

    static URI uri(CaptionServer s, String path) {
        return URI.create("http://127.0.0.1:" + s.port() + path);
    }

    static HttpResponse<String> get(CaptionServer s, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(s, path)).timeout(Duration.ofSeconds(60));
        if (headers.length > 0) b.headers(headers);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(CaptionServer s, String path, byte[] body, String type, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(s, path)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) b.headers(headers);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body());
    }

    /** A multipart/form-data body: one part per (field, file name, bytes). */
    static final class Multipart {
        final String boundary = "----captioner-test-boundary-7f3a";
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Multipart file(String field, String filename, String type, byte[] bytes) throws IOException {
            out.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + filename
                    + "\"\r\nContent-Type: " + type + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            out.write(bytes);
            out.write("\r\n".getBytes(StandardCharsets.UTF_8));
            return this;
        }

        Multipart field(String name, String value) throws IOException {
            out.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            return this;
        }

        byte[] bytes() {
            byte[] end = ("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
            byte[] b = out.toByteArray(), all = new byte[b.length + end.length];
            System.arraycopy(b, 0, all, 0, b.length);
            System.arraycopy(end, 0, all, b.length, end.length);
            return all;
        }

        String type() {
            return "multipart/form-data; boundary=" + boundary;
        }
    }
}
