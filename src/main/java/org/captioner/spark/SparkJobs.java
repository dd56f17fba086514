package org.captioner.spark;

import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.captioner.encoder.EncoderType;
import org.captioner.encoder.WeightsLocator;
import org.captioner.model.ModelBundle;
import org.captioner.util.Hashing;
import org.captioner.cli.DecodingOptions;
import org.captioner.cli.Main;
import org.captioner.cli.ModelOptions;
import org.captioner.cli.Options;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.apache.spark.sql.functions.col;

/**
 * The Spark applications: {@code caption} and {@code features} over Hadoop paths, and {@code features-folder}, which
 * turns a features job's output into the folder {@code train} reads. Entry point of the application jar
 * ({@code spark-submit --class org.captioner.spark.SparkJobs target/captioner-spark.jar caption ...}) and of
 * {@code ./captioner spark ...} (Spark's jars from Maven, no installation).
 */
@Command(name = "spark", mixinStandardHelpOptions = true, version = "captioner 0.1.0",
        description = {"Caption or encode images as an Apache Spark job (local mode, standalone, YARN, Kubernetes).",
                "Under spark-submit the master and resources come from spark-submit; with ./captioner spark, from --master and --conf."},
        subcommands = {SparkJobs.CaptionJob.class, SparkJobs.FeaturesJob.class, SparkJobs.FeaturesFolder.class})
public final class SparkJobs implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Show debug logs and Spark's own (WARN and above otherwise).")
    void setVerbose(boolean verbose) {
        Main.verbose(verbose);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a job is required: caption, features or features-folder");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a job; returns the exit code (0 ok, 1 some files failed, 2 bad command line, 3 nothing ran). */
    public static int run(String... args) {
        CommandLine cl = Options.showDefaults(new CommandLine(new SparkJobs()));
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            org.slf4j.LoggerFactory.getLogger(SparkJobs.class).debug("stack trace", ex);
            return Main.EXIT_FATAL;
        });
        return cl.execute(args);
    }

    /** Options every job takes. */
    static final class Common {
        @Option(names = "--master", description = {"Spark master: local[N], spark://HOST:PORT, yarn, k8s://... (default: spark-submit's,",
                "else local[*])."})
        String master;
        @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting, as spark-submit's --conf (repeatable).")
        Map<String, String> conf = new LinkedHashMap<>();
        @Option(names = "--out", required = true, description = "Output directory (a Hadoop path: file:, hdfs:, s3a:, ...).")
        String out;
        @Option(names = "--format", defaultValue = "parquet", description = "parquet or jsonl (JSON lines; json is accepted too).")
        String format;
        @Option(names = "--overwrite", description = "Replace an existing --out (default: refuse).")
        boolean overwrite;
        @Option(names = "--stats-json", paramLabel = "FILE", description = {"Also write the job's figures as JSON to FILE (a local path: images,",
                "captioned or encoded, failed, seconds, images_per_second): for benchmarks and scripts."})
        Path statsJson;

        SparkSession session(String app) {
            SparkSession.Builder b = SparkSession.builder().appName(app);
            if (master != null) b = b.master(master);
            else if (System.getProperty("spark.master") == null) b = b.master("local[*]");       // run outside spark-submit
            for (Map.Entry<String, String> e : conf.entrySet()) b = b.config(e.getKey(), e.getValue());
            return b.getOrCreate();
        }

        String format(CommandLine.Model.CommandSpec spec) {
            if (!List.of("parquet", "jsonl", "json").contains(format)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--format must be parquet or jsonl");
            }
            return format.equals("parquet") ? "parquet" : "json";      // Spark's name for JSON lines
        }

        void write(Dataset<Row> rows, String fmt) {
            rows.write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).format(fmt).save(out);
        }
    }

    /** Options of the jobs that read images. */
    static final class ImageOptions {
        @Parameters(arity = "1..*", paramLabel = "INPUT", description = "Image folders, files or globs (Hadoop paths).")
        List<String> inputs = new ArrayList<>();
        @Option(names = "--recursive", description = "Descend into sub-folders.")
        boolean recursive;
        @Option(names = "--batch", defaultValue = org.captioner.decode.DecodeOptions.DEFAULT_BATCH, description = "Images per network batch.")
        int batch;
        // one per task: Spark already runs a task per core, each decoding while another holds the networks
        @Option(names = "--threads", defaultValue = "1", description = "Image decoding threads per task (Spark runs one task per core).")
        int threads;
    }

    @Command(name = "caption", mixinStandardHelpOptions = true,
            description = {"Caption images: one row per input file with image, caption, score, nbest, [attention], error.",
                    "Same captions as './captioner caption' for the same model and options."})
    static final class CaptionJob implements Callable<Integer> {
        @Mixin
        Common common = new Common();
        @CommandLine.ArgGroup(exclusive = false, multiplicity = "1")
        ImageOptions images = new ImageOptions();
        @Mixin
        ModelOptions model = new ModelOptions();
        @Mixin
        DecodingOptions decoding = new DecodingOptions();
        @Option(names = "--attention", description = "Add the per-word attention maps (attention models).")
        boolean attention;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            decoding.check(spec);
            check(spec, "--batch", images.batch, 1, 1024);
            check(spec, "--threads", images.threads, 1, 64);
            String fmt = common.format(spec);
            // everything that can be checked on the driver is checked before any executor starts
            Path modelDir = model.modelDir();
            ModelBundle bundle = ModelBundle.load(modelDir);
            Path weights = weights(EncoderType.parse(bundle.encoder()), model.weights, bundle.encoderWeightsSha256(), modelDir);
            var options = bundle.decodeOptions(decoding.search.beam, decoding.nbest, decoding.search.lengthAlpha, decoding.sample,
                    decoding.temperature, decoding.topK, decoding.seed).withBlockTrigrams(decoding.search.blockTrigrams);
            SparkSession spark = common.session("captioner caption");
            try {
                String archive = shipModel(spark, modelDir);
                spark.sparkContext().addFile(weights.toAbsolutePath().toString());
                JobSettings s = new JobSettings(archive, weights.getFileName().toString(), bundle.encoder(), options, attention,
                        null, images.batch, images.threads);
                prewarm(spark, () -> ExecutorResources.pipeline(s));
                long t0 = System.nanoTime();
                common.write(imageRows(spark, images, new CaptionPartition(s), CaptionPartition.schema(attention)), fmt);
                return summary(spark, common, fmt, "captioned", t0);
            } finally {
                spark.stop();
            }
        }
    }

    @Command(name = "features", mixinStandardHelpOptions = true,
            description = {"Encode images: one row per input file with image, vector, grid, error; the encoder and its weights'",
                    "SHA-256 in the vector column's metadata and in OUT/_features.json. 'features-folder' turns it into a features folder."})
    static final class FeaturesJob implements Callable<Integer> {
        @Mixin
        Common common = new Common();
        @CommandLine.ArgGroup(exclusive = false, multiplicity = "1")
        ImageOptions images = new ImageOptions();
        @Option(names = "--encoder", defaultValue = "mobilenetv2", description = "squeezenet, vgg16 or mobilenetv2.")
        String encoder;
        @Option(names = "--grid", defaultValue = "float16", description = "Feature grid column: float16 (binary, little-endian), float32 (array) or none.")
        String grid;
        @Option(names = "--weights", description = "Encoder weights file (default: as the CLI: CAPTIONER_WEIGHTS_DIR, the cache, the pinned download).")
        Path weights;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            check(spec, "--batch", images.batch, 1, 1024);
            check(spec, "--threads", images.threads, 1, 64);
            if (!List.of("float16", "float32", "none").contains(grid)) throw new CommandLine.ParameterException(spec.commandLine(), "--grid must be float16, float32 or none");
            String fmt = common.format(spec);
            EncoderType type;
            try {
                type = EncoderType.parse(encoder);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            Path weights = weights(type, this.weights, null, null);
            String sha = Hashing.sha256(weights);
            SparkSession spark = common.session("captioner features");
            try {
                spark.sparkContext().addFile(weights.toAbsolutePath().toString());
                JobSettings s = new JobSettings(null, weights.getFileName().toString(), type.id, null, false, grid, images.batch,
                        images.threads);
                prewarm(spark, () -> ExecutorResources.encoder(s));
                long t0 = System.nanoTime();
                var schema = FeaturesPartition.schema(grid, type.id, sha);
                Dataset<Row> rows = imageRows(spark, images, new FeaturesPartition(s), schema);
                // mapPartitions keeps the types, not the column metadata: put it back for the writer (Parquet stores it)
                rows = rows.withColumn("vector", col("vector").as("vector", schema.apply("vector").metadata()));
                common.write(rows, fmt);
                Map<String, Object> meta = new LinkedHashMap<>();
                meta.put("format", "captioner-spark-features/1");
                meta.put("encoder", type.id);
                meta.put("weights_sha256", sha);
                meta.put("weights_source", weights.toAbsolutePath().normalize().toString());
                meta.put("vector_dim", type.vectorSize);
                meta.put("grid_side", type.gridSide);
                meta.put("grid_channels", type.gridChannels);
                meta.put("grid", grid);
                meta.put("output_format", fmt);
                writeText(spark, common.out + "/" + FeaturesFolder.META,
                        new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(meta) + "\n");
                return summary(spark, common, fmt, "encoded", t0);
            } finally {
                spark.stop();
            }
        }
    }

    @Command(name = "features-folder", mixinStandardHelpOptions = true,
            description = {"Turn a 'spark features' output into the features folder 'train --features' reads (vectors.npy, grid.npy,",
                    "names.txt, errors.jsonl, meta.json). Rows are streamed to the driver one partition at a time, sorted by name."})
    static final class FeaturesFolder implements Callable<Integer> {
        static final String META = "_features.json";
        @Parameters(index = "0", paramLabel = "SPARK_OUTPUT", description = "Output directory of 'spark features'.")
        String input;
        @Option(names = "--out", paramLabel = "DIR", description = "Features folder to write (must not exist or be empty; required).")
        Path to;

        @Option(names = "--to", hidden = true, description = "Former name of --out.")
        void setTo(Path p) {
            to = p;
        }
        @Option(names = "--root", description = {"Name images relative to this path prefix (e.g. file:/data/flickr8k/);",
                "default: their file names, which is what the Flickr8k and COCO caption files use."})
        String root;
        @Option(names = "--master", description = "Spark master for reading (default: local[*]).")
        String master;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (to == null) throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--out=DIR'");
            if (Files.exists(to)) {
                boolean empty;
                try (var entries = Files.list(to)) {
                    empty = entries.findAny().isEmpty();
                } catch (java.nio.file.NotDirectoryException e) {
                    empty = false;
                }
                if (!empty) throw new IOException(to + " exists and is not an empty folder");
            }
            SparkSession.Builder b = SparkSession.builder().appName("captioner features-folder");
            b = b.master(master != null ? master : System.getProperty("spark.master", "local[*]"));
            SparkSession spark = b.getOrCreate();
            try {
                return FeatureFolders.write(spark, input, to, root, spec.commandLine().getErr());
            } finally {
                spark.stop();
            }
        }
    }

    /** What a prewarm loads. */
    @FunctionalInterface
    interface Load {
        Object load() throws IOException;
    }

    /**
     * In local mode the driver's JVM is the executor: load the networks there on a background thread while Spark
     * plans the query (seconds of class loading and code generation on a fresh JVM), so the first tasks find them
     * ready instead of waiting. A failure is left to the tasks, which report it.
     */
    static void prewarm(SparkSession spark, Load load) {
        if (!spark.sparkContext().isLocal()) return;
        Thread t = new Thread(() -> {
            try {
                load.load();
            } catch (IOException | RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(SparkJobs.class).debug("prewarm failed; the tasks will load and report", e);
            }
        }, "captioner-prewarm");
        t.setDaemon(true);
        t.start();
    }

    /** A job's output rows: the input files through {@code partition}, plus the error rows of empty files. */
    static Dataset<Row> imageRows(SparkSession spark, ImageOptions images, org.apache.spark.api.java.function.MapPartitionsFunction<Row, Row> partition,
                                  org.apache.spark.sql.types.StructType schema) throws IOException {
        List<String> empties = new ArrayList<>();
        Dataset<Row> in = ImageInputs.read(spark, images.inputs, images.recursive, empties);
        return in.mapPartitions(partition, Encoders.row(schema)).union(emptyRows(spark, empties, schema));
    }

    /** Error rows for zero-length files, in a job's schema (image and error set, the rest null). */
    static Dataset<Row> emptyRows(SparkSession spark, List<String> empties, org.apache.spark.sql.types.StructType schema) {
        List<Row> rows = new ArrayList<>();
        int n = schema.fields().length;
        for (String e : empties) {
            Object[] v = new Object[n];
            v[0] = e;
            v[n - 1] = org.captioner.image.ImageDecoder.EMPTY_FILE;
            rows.add(org.apache.spark.sql.RowFactory.create(v));
        }
        return spark.createDataFrame(rows, schema);
    }

    static void check(CommandLine.Model.CommandSpec spec, String name, int v, int lo, int hi) {
        if (v < lo || v > hi) throw new CommandLine.ParameterException(spec.commandLine(), name + " must be in [" + lo + ", " + hi + "], got " + v);
    }

    /** The encoder weights, found on the driver as the CLI finds them (and checked against the model's), to ship to executors. */
    static Path weights(EncoderType type, Path explicit, String expectedSha, Path modelDir) throws IOException {
        Path file = new WeightsLocator().locate(type, explicit).file();
        if (file == null) throw new IOException("no " + type.id + " weights file found; pass --weights (executors get the driver's copy)");
        if (expectedSha != null) {
            String sha = Hashing.sha256(file);
            if (!sha.equals(expectedSha)) {
                throw new IOException("the model in " + modelDir + " was trained on " + type.id + " features from weights with SHA-256 " + expectedSha
                        + ", but " + file + " has " + sha);
            }
        }
        return file;
    }

    /**
     * Ships the model folder to every executor as a zip archive ({@code addArchive}: Spark unpacks it once per node;
     * {@code addFile} refuses local folders outside local mode). Returns the archive's name, {@code SparkFiles.get}'s key.
     */
    static String shipModel(SparkSession spark, Path modelDir) throws IOException {
        Path tmp = Files.createTempDirectory("captioner-model");
        String name = "model-" + Hashing.sha256(modelDir.resolve(ModelBundle.DECODER)).substring(0, 12) + ".zip";
        Path zip = tmp.resolve(name);
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip)); var files = Files.list(modelDir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                z.putNextEntry(new ZipEntry(f.getFileName().toString()));
                Files.copy(f, z);
                z.closeEntry();
            }
        }
        zip.toFile().deleteOnExit();
        tmp.toFile().deleteOnExit();
        spark.sparkContext().addArchive(zip.toUri().toString());
        return name;
    }

    static void writeText(SparkSession spark, String path, String text) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
        FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
        try (OutputStream o = fs.create(p, true)) {
            o.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Reads the committed output back (rows and error rows) and prints the CLI's summary line. */
    static int summary(SparkSession spark, Common common, String fmt, String verb, long t0) {
        double secs = (System.nanoTime() - t0) / 1e9;
        Dataset<Row> back = spark.read().format(fmt).load(common.out);
        long rows = back.count();
        long failed = java.util.Arrays.asList(back.columns()).contains("error") ? back.filter(col("error").isNotNull()).count() : 0;
        System.err.printf("%s %d images, %d failed in %.1f s (%.1f images/s) -> %s%n", verb, rows - failed, failed, secs, rows / Math.max(secs, 1e-9), common.out);
        if (common.statsJson != null) {
            Map<String, Object> st = new LinkedHashMap<>();
            st.put("images", rows);
            st.put(verb, rows - failed);
            st.put("failed", failed);
            st.put("seconds", secs);
            st.put("images_per_second", rows / Math.max(secs, 1e-9));
            try {
                org.captioner.util.AtomicFiles.writeString(common.statsJson,
                        new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(st) + "\n");
            } catch (IOException e) {
                System.err.println("warning: cannot write " + common.statsJson + ": " + e.getMessage());
            }
        }
        if (rows == 0) {
            System.err.println("error: no images found in the inputs");
            return Main.EXIT_FATAL;
        }
        return failed > 0 ? Main.EXIT_PARTIAL : Main.EXIT_OK;
    }
}
