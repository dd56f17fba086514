package org.captioner.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/** The service's Prometheus metrics (its own registry, so two servers in one JVM, as in tests, do not clash). */
final class ServerMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    final Counter requests = Counter.builder().name("captioner_requests_total").help("HTTP requests by endpoint and status")
            .labelNames("endpoint", "status").register(registry);
    final Counter errors = Counter.builder().name("captioner_errors_total").help("Failed requests by kind of error")
            .labelNames("kind").register(registry);
    final Counter images = Counter.builder().name("captioner_images_total").help("Images captioned").register(registry);
    final Histogram batchSize = Histogram.builder().name("captioner_batch_size").help("Images per network call")
            .classicOnly().classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry);
    final Histogram latency = Histogram.builder().name("captioner_request_duration_seconds").help("Caption request latency")
            .classicOnly().classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60).register(registry);

    ServerMetrics(IntSupplier queueDepth, IntSupplier inFlight) {
        GaugeWithCallback.builder().name("captioner_queue_depth").help("Images waiting for the network")
                .callback(cb -> cb.call(queueDepth.getAsInt())).register(registry);
        GaugeWithCallback.builder().name("captioner_requests_in_flight").help("Caption requests being handled")
                .callback(cb -> cb.call(inFlight.getAsInt())).register(registry);
    }

    String scrape() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }
}
