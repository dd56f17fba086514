package org.captioner.spark;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.captioner.cli.Main;
import org.captioner.features.FeatureSet;
import org.captioner.testing.SharedData;
import org.captioner.testing.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Spark jobs in local mode ({@code local[2]}) in this JVM, against the CLI on the same files. */
class SparkJobsIT {
    static final String[] LOCAL = {"--master", "local[2]", "--conf", "spark.ui.enabled=false"};
    static final Set<String> BAD = Set.of("notes.jpg", "empty.png", "truncated.jpg");

    @TempDir
    static Path dir;
    static Path images, model, weights;

    @BeforeAll
    static void fixture() throws Exception {
        weights = SharedData.squeezenetWeights();
        images = SparkFixture.images(dir, 6);
        model = TinyModels.squeezenetAttention(dir, "spark test fixture");
    }

    static String[] args(String job, String... rest) {
        List<String> a = new java.util.ArrayList<>(List.of(job));
        a.addAll(List.of(LOCAL));
        a.addAll(List.of(rest));
        return a.toArray(new String[0]);
    }

    @Test
    void captionsEqualTheClisImageByImageWithErrorRows() throws Exception {
        Path out = dir.resolve("spark-json");
        int code = SparkJobs.run(args("caption", images.toString(), "--model", model.toString(), "--weights", weights.toString(),
                "--nbest", "2", "--attention", "--batch", "2", "--out", out.toString(), "--format", "json"));
        assertEquals(org.captioner.cli.Main.EXIT_PARTIAL, code, "bad files make the exit code 1, as the CLI's");
        Path cli = dir.resolve("cli.jsonl");
        assertEquals(Main.EXIT_PARTIAL, Main.commandLine().execute("caption", images.toString(), "--model", model.toString(), "--weights",
                weights.toString(), "--nbest", "2", "--attention", "--out", cli.toString(), "--no-progress"));
        Map<String, JsonNode> spark = SparkFixture.jsonRows(out), expected = SparkFixture.jsonl(cli);
        assertEquals(expected.keySet(), spark.keySet(), "one row per input file, the same files as the CLI (no README.txt, no sub/)");
        assertEquals(9, spark.size());
        for (Map.Entry<String, JsonNode> e : expected.entrySet()) {
            JsonNode s = spark.get(e.getKey()), c = e.getValue();
            assertTrue(s.get("image").asText().startsWith("file:/"), "image is the full path");
            if (BAD.contains(e.getKey())) {
                assertEquals(c.get("error").asText(), s.get("error").asText(), e.getKey());
                assertTrue(s.path("caption").isMissingNode());
                continue;
            }
            assertTrue(s.path("error").isMissingNode(), e.getKey());
            assertEquals(c.get("caption").asText(), s.get("caption").asText(), e.getKey());
            assertEquals(c.get("score").asDouble(), s.get("score").asDouble(), 1e-4, e.getKey());
            assertEquals(2, s.get("nbest").size());
            for (int i = 0; i < 2; i++) assertEquals(c.get("nbest").get(i).get("caption").asText(), s.get("nbest").get(i).get("caption").asText());
            assertEquals(c.get("attention").get("words"), s.get("attention").get("words"));
            assertEquals(c.get("attention").get("grid"), s.get("attention").get("grid"));
            assertEquals(c.get("attention").get("peak_cells"), s.get("attention").get("peak_cells"));
            assertEquals(c.get("attention").get("maps").size(), s.get("attention").get("maps").size());
            assertEquals(c.get("attention").get("maps").get(0).get(5).asDouble(), s.get("attention").get("maps").get(0).get(5).asDouble(), 1e-5);
        }
    }

    @Test
    void parquetOutputReadsBackWithSparkAndRecursiveFindsSubFolders() throws Exception {
        Path out = dir.resolve("spark-parquet");
        assertEquals(org.captioner.cli.Main.EXIT_PARTIAL, SparkJobs.run(args("caption", images.toString(), "--recursive", "--model", model.toString(),
                "--weights", weights.toString(), "--out", out.toString())));
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
        try {
            Dataset<Row> rows = spark.read().parquet(out.toString());
            assertEquals(List.of("image", "caption", "score", "nbest", "error"), List.of(rows.columns()));
            assertEquals(10, rows.count(), "9 files of the folder + sub/deeper.JPG");
            assertEquals(3, rows.filter("error is not null").count());
            assertEquals(1, rows.filter("image like '%/sub/deeper.JPG'").filter("caption is not null").count());
        } finally {
            spark.stop();
        }
        // an existing output is refused unless --overwrite
        assertEquals(org.captioner.cli.Main.EXIT_FATAL, SparkJobs.run(args("caption", images.toString(), "--model", model.toString(),
                "--weights", weights.toString(), "--out", out.toString())));
    }

    /** Counts failed task attempts (registered through spark.extraListeners). */
    public static final class FailedTasks extends SparkListener {
        static final AtomicInteger COUNT = new AtomicInteger();

        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
            if (!end.taskInfo().successful()) COUNT.incrementAndGet();
        }
    }

    @Test
    void aTaskThatFailsOnceIsRetriedAndItsRowsCommittedOnce() throws Exception {
        FailedTasks.COUNT.set(0);
        Path out = dir.resolve("spark-fault");
        // local[2,3]: 2 threads, up to 3 attempts per task (plain local[2] never retries)
        int code = SparkJobs.run("caption", "--master", "local[2,3]", "--conf", "spark.ui.enabled=false",
                "--conf", org.captioner.testing.TestFaultPoints.SPARK_FAIL_ONCE + "=throw", "--conf", "spark.extraListeners=" + FailedTasks.class.getName(),
                images.toString(), "--model", model.toString(),
                "--weights", weights.toString(), "--batch", "2", "--out", out.toString(), "--format", "json");
        assertEquals(org.captioner.cli.Main.EXIT_PARTIAL, code);
        assertEquals(1, FailedTasks.COUNT.get(), "the injected failure happened once");
        Map<String, JsonNode> rows = SparkFixture.jsonRows(out);       // throws on a duplicate row
        assertEquals(9, rows.size());
    }

    @Test
    void featuresJobTurnsIntoTheFeaturesFolderTheCliWrites() throws Exception {
        Path out = dir.resolve("spark-features");
        assertEquals(org.captioner.cli.Main.EXIT_PARTIAL, SparkJobs.run(args("features", images.toString(), "--encoder", "squeezenet",
                "--weights", weights.toString(), "--out", out.toString())));
        assertTrue(Files.readString(out.resolve("_features.json")).contains(org.captioner.util.Hashing.sha256(weights)));
        Path folder = dir.resolve("from-spark");
        assertEquals(org.captioner.cli.Main.EXIT_PARTIAL, SparkJobs.run("features-folder", out.toString(), "--to", folder.toString(), "--master", "local[2]"));
        Path cli = dir.resolve("cli-features");
        assertEquals(Main.EXIT_PARTIAL, Main.commandLine().execute("features", images.toString(), "--encoder", "squeezenet",
                "--weights", weights.toString(), "--out", cli.toString(), "--no-progress"));
        try (FeatureSet a = new FeatureSet(folder); FeatureSet b = new FeatureSet(cli)) {
            assertEquals(b.meta(), a.meta(), "same encoder, weights, shapes, grid dtype and image count");
            assertEquals(b.names(), a.names(), "the same images in the same (sorted) order");
            for (String n : b.names()) {
                float[] va = a.vector(a.row(n)), vb = b.vector(b.row(n));
                for (int i = 0; i < va.length; i++) assertEquals(vb[i], va[i], 1e-4f * Math.max(1, Math.abs(vb[i])), n);
                float[] ga = a.grid(a.row(n)), gb = b.grid(b.row(n));
                assertEquals(gb.length, ga.length);
                int off = 0;
                for (int i = 0; i < ga.length; i++) if (Math.abs(ga[i] - gb[i]) > 2e-3f * Math.max(1, Math.abs(gb[i]))) off++;
                assertTrue(off <= ga.length / 1000, n + ": " + off + " grid values differ beyond float16 rounding");
            }
        }
        assertEquals(3, Files.readAllLines(folder.resolve("errors.jsonl")).size());
        // the encoder and weights ride in the Parquet schema too
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
        try {
            var meta = spark.read().parquet(out.toString()).schema().apply("vector").metadata();
            assertEquals("squeezenet", meta.getString("captioner_encoder"));
            assertNotNull(meta.getString("captioner_weights_sha256"));
            byte[] g = (byte[]) spark.read().parquet(out.toString()).filter("error is null").first().getAs("grid");
            assertEquals(169 * 512 * 2, g.length, "float16 grid, 13x13x512");
        } finally {
            spark.stop();
        }
        float[] roundTrip = FeaturesPartition.unhalf(FeaturesPartition.half(new float[] {1.5f, -2.25f, 0f}, 0, 3));
        assertArrayEquals(new float[] {1.5f, -2.25f, 0f}, roundTrip);
    }
}
