package org.captioner.cli;

import org.captioner.encoder.EncoderType;
import org.captioner.encoder.Encoders;
import org.captioner.encoder.ImageEncoder;
import org.captioner.encoder.NativeSetup;
import org.captioner.image.ImagePreprocessor;
import org.captioner.image.ImageBatchLoader;
import org.captioner.image.ImageDecoder;
import org.captioner.image.ImageFiles;
import org.captioner.util.PeakMemory;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks that print throughput and peak memory.",
        subcommands = {BenchCommand.Encoder.class, BenchCommand.Decoder.class, BenchTrainScaleCommand.class, BenchCommand.Evaluate.class, BenchCommand.Latency.class,
                BenchCommand.Attention.class, BenchServeCommand.class})
public final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "choose a benchmark: encoder, decoder, evaluate, latency, attention, serve");
    }

    @Command(name = "encoder", mixinStandardHelpOptions = true,
            description = {"Encoder throughput: CNN alone on synthetic input, and end to end (JPEG decode + preprocessing + CNN)",
                    "when --images is given."})
    static final class Encoder implements Callable<Integer> {
        @Option(names = "--encoder", defaultValue = "mobilenetv2", description = "squeezenet, vgg16 or mobilenetv2.")
        String encoder;
        @Option(names = "--weights", description = "Weights file (default: CAPTIONER_WEIGHTS_DIR, then the DL4J zoo).")
        Path weights;
        @Option(names = "--random-weights", description = "Use randomly initialised weights (same speed; for encoders whose weights are absent).")
        boolean random;
        @Option(names = "--batch", defaultValue = "32", description = "Batch size.")
        int batch;
        @Option(names = "--count", defaultValue = "256", description = "Images to time.")
        int count;
        @Option(names = "--images", description = "Folder of images for the end-to-end figure.")
        Path images;
        @Option(names = "--threads", defaultValue = "2", description = "Decoding threads.")
        int threads;
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Options.positive(spec, "--batch", batch);
            Options.positive(spec, "--count", count);
            Options.positive(spec, "--threads", threads);
            EncoderType type = EncoderType.parse(encoder);
            ImageEncoder enc = random ? Encoders.random(type) : Encoders.load(type, weights);
            int size = type.inputSize;
            INDArray x = Nd4j.rand(new long[] {batch, 3, size, size}).subi(0.5).muli(200);
            for (int i = 0; i < 2; i++) enc.encode(x); // warm-up: JIT, workspaces, oneDNN primitives
            int batches = Math.max(1, count / batch);
            long t0 = System.nanoTime();
            for (int i = 0; i < batches; i++) enc.encode(x);
            double cnn = batches * batch / ((System.nanoTime() - t0) / 1e9);
            System.out.printf("encoder %s  batch %d  oneDNN %s  threads(omp) %s%n", type, batch,
                    NativeSetup.oneDnnActive() ? "on" : "off", System.getenv().getOrDefault("OMP_NUM_THREADS", "default"));
            System.out.printf("  CNN only:     %.1f images/s (%d images)%n", cnn, batches * batch);
            if (images != null) {
                List<org.captioner.ImageInput> files = ImageFiles.collect(List.of(images), false).stream().limit(count).toList();
                if (files.isEmpty()) throw new IllegalArgumentException("no images in " + images);
                long t1 = System.nanoTime();
                int n = 0;
                try (var it = org.captioner.pipeline.EncodingPipeline.encode(enc, files.iterator(), batch, threads, true)) {
                    while (it.hasNext()) n += it.next().items().size();
                }
                double e2e = n / ((System.nanoTime() - t1) / 1e9);
                System.out.printf("  end to end:   %.1f images/s (%d files from %s, decode + preprocess + CNN)%n", e2e, n, images);
            }
            System.out.printf("  memory:       %s%n", PeakMemory.describe());
            return Main.EXIT_OK;
        }
    }

    @Command(name = "latency", mixinStandardHelpOptions = true,
            description = {"Latency of single embedded-API calls, Captioner.caption(Path), one image at a time after a warm-up:",
                    "what a service captioning one upload per request sees (decode + CNN + beam search)."})
    static final class Latency implements Callable<Integer> {
        @Option(names = "--images", required = true, description = "Folder of images (the first --count are used).") Path images;
        @picocli.CommandLine.Mixin ModelOptions model = new ModelOptions();
        @Option(names = "--count", defaultValue = "50", description = "Timed calls.") int count;
        @picocli.CommandLine.Mixin BeamOptions search = new BeamOptions();
        @Option(names = "--callers", split = ",", defaultValue = "1", paramLabel = "N,M,...", description = {"Also time N threads calling",
                "caption(Path) at once, each on its share of the images: throughput of concurrent synchronous callers."}) List<Integer> callers;
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Options.positive(spec, "--count", count);
            for (int n : callers) Options.positive(spec, "--callers", n);
            search.check(spec);
            NativeSetup.init();
            List<Path> files = org.captioner.image.ImageFiles.collect(List.of(images), false).stream()
                    .map(org.captioner.ImageInput::file).limit(count + 5L).toList();
            if (files.size() < 6) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "need at least 6 images in " + images);
            org.captioner.Captioner.Builder b = org.captioner.Captioner.builder().beam(search.beam).weights(model.weights);
            if (search.lengthAlpha != null) b.lengthAlpha(search.lengthAlpha);
            try (org.captioner.Captioner c = b.build(model.modelDir())) {
                for (Path f : files.subList(0, 5)) c.caption(f);                // warm-up: JIT, native kernels, workspaces
                List<Path> timed = files.subList(5, files.size());
                double[] ms = new double[timed.size()];
                for (int i = 0; i < ms.length; i++) {
                    long t0 = System.nanoTime();
                    c.caption(timed.get(i));
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
                java.util.Arrays.sort(ms);
                System.out.printf("latency: %d single-image calls, beam %d: median %.1f ms, p90 %.1f ms, max %.1f ms%n", ms.length, search.beam,
                        ms[ms.length / 2], ms[(int) Math.min(ms.length - 1, Math.round(ms.length * 0.9))], ms[ms.length - 1]);
                for (int n : callers) {
                    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(n);
                    long t0 = System.nanoTime();
                    List<java.util.concurrent.Future<?>> fs = new java.util.ArrayList<>();
                    for (int t = 0; t < n; t++) {
                        final int from = t;
                        fs.add(pool.submit(() -> {
                            for (int i = from; i < timed.size(); i += n) c.caption(timed.get(i));
                            return null;
                        }));
                    }
                    for (var f : fs) f.get();
                    pool.shutdown();
                    double secs = (System.nanoTime() - t0) / 1e9;
                    System.out.printf("callers: %d thread(s) calling caption(Path) at once: %.1f images/s (%d images in %.1f s)%n", n,
                            timed.size() / secs, timed.size(), secs);
                }
            }
            System.out.printf("  memory: %s%n", PeakMemory.describe());
            return Main.EXIT_OK;
        }
    }

    @Command(name = "evaluate", mixinStandardHelpOptions = true,
            description = {"Metric speed: scores each image's first reference against its other references",
                    "(tokenization + BLEU + ROUGE-L + CIDEr-D), e.g. on COCO val2017 (5,000 images x 4-5 references)."})
    static final class Evaluate implements Callable<Integer> {
        @Option(names = "--captions", paramLabel = "FILE", description = "Human references (any format evaluate reads; required).")
        Path refs;

        @Option(names = "--refs", hidden = true, description = "Former name of --captions.")
        void setRefs(Path p) {
            refs = p;
        }

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            long t0 = System.nanoTime();
            Options.required(spec, "--captions", refs);
            var ds = org.captioner.data.CaptionDataset.load(refs);
            long t1 = System.nanoTime();
            List<String> keys = new java.util.ArrayList<>(), hyps = new java.util.ArrayList<>();
            List<List<String>> rs = new java.util.ArrayList<>();
            for (var ic : ds.images()) {
                if (ic.captions().size() < 2) continue;
                keys.add(ic.file());
                hyps.add(ic.captions().get(0));
                rs.add(ic.captions().subList(1, ic.captions().size()));
            }
            int refCount = rs.stream().mapToInt(List::size).sum();
            var s = org.captioner.eval.Scores.of(keys, hyps, rs);
            long t2 = System.nanoTime();
            System.out.printf("evaluate: %d images, %d references: read %.2f s, tokenize + score %.2f s (%.0f images/s)%n",
                    keys.size(), refCount, (t1 - t0) / 1e9, (t2 - t1) / 1e9, keys.size() / ((t2 - t1) / 1e9));
            System.out.printf("  (human caption vs the other humans: BLEU-4 %.4f, CIDEr-D %.4f)%n", s.get("BLEU-4"), s.get("CIDEr-D"));
            System.out.printf("  memory: %s%n", PeakMemory.describe());
            return Main.EXIT_OK;
        }
    }

    @Command(name = "decoder", mixinStandardHelpOptions = true,
            description = {"Decoder training speed: optimisation steps on synthetic batches at full model sizes",
                    "(vocabulary 2,533, SqueezeNet vector 512 and 13x13x512 grid, embedding 256, hidden 512; or a model's own",
                    "sizes with --like, e.g. --like models/default: MobileNetV2's 1,280 and 7x7x1,280)."})
    static final class Decoder implements Callable<Integer> {
        @Option(names = "--decoder", defaultValue = "lstm", description = "rnn, lstm, gru, attention or hard-attention.") String decoder;
        @Option(names = "--layers", defaultValue = "1", description = "Stacked recurrent layers (rnn, lstm, gru).") int layers;
        @Option(names = "--batch", defaultValue = "64", description = "Captions per synthetic training batch.") int batch;
        @Option(names = "--steps", defaultValue = "13", description = "Caption steps per batch (Flickr8k mean: ~12.8).") int steps;
        @Option(names = "--iterations", defaultValue = "5", description = "Timed steps (after 2 warm-up steps).") int iterations;
        @Option(names = "--like", paramLabel = "MODEL_DIR", description = "Take the sizes (vocabulary, image vector, grid, embedding, hidden, attention) from this model's config.json; --decoder and --layers still choose the decoder.")
        Path like;
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Options.positive(spec, "--batch", batch);
            Options.positive(spec, "--steps", steps);
            Options.positive(spec, "--iterations", iterations);
            NativeSetup.init();
            var type = org.captioner.model.DecoderType.parse(decoder);
            Options.range(spec, "--layers", layers, 1, 8);
            org.captioner.model.DecoderConfig cfg;
            try {
                if (like != null) {
                    var c = org.captioner.model.ModelBundle.load(like).decoder().config();
                    cfg = new org.captioner.model.DecoderConfig(type, c.vocabSize(), c.imageDim(), c.embedSize(), c.imageProjection(),
                            c.hidden(), c.dropout(), c.maxLength(), c.gridCells(), c.gridChannels(), c.attentionSize(), c.attentionMap(), layers);
                } else {
                    cfg = org.captioner.model.DecoderConfig.defaults(type, 2533, 512, 169, 512).withLayers(layers);
                }
            } catch (IllegalArgumentException | java.io.IOException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            int vocab = cfg.vocabSize(), dim = cfg.imageDim(), cells = cfg.gridCells(), channels = cfg.gridChannels();
            var dec = org.captioner.model.Decoders.create(cfg, org.captioner.train.TrainOptions.DEFAULT_LEARNING_RATE, 1.0, 1);
            java.util.Random r = new java.util.Random(1);
            float[] ids = new float[batch * steps], tgt = new float[batch * steps];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 4 + r.nextInt(vocab - 4);
                tgt[i] = 4 + r.nextInt(vocab - 4);
            }
            var b = new org.captioner.model.CaptionBatch(Nd4j.create(ids, new long[] {batch, 1, steps}, 'c'),
                    Nd4j.create(tgt, new long[] {batch, 1, steps}, 'c'), Nd4j.ones(batch, steps), Nd4j.rand(batch, dim),
                    type.attends() ? Nd4j.rand(batch, cells, channels) : null, (long) batch * steps);
            for (int i = 0; i < 2; i++) dec.fit(b);
            long t0 = System.nanoTime();
            for (int i = 0; i < iterations; i++) dec.fit(b);
            double s = (System.nanoTime() - t0) / 1e9 / iterations;
            System.out.printf("decoder %s%s  batch %d x %d steps: %.3f s per step, %.0f tokens/s (%d parameters; image %d, grid %d x %d%s)%n",
                    type.id(), layers > 1 ? " x" + layers + " layers" : "", batch, steps, s, batch * steps / s, dec.parameterCount(),
                    dim, cells, channels, like == null ? "" : ", sizes of " + like);
            System.out.printf("  memory: %s%n", PeakMemory.describe());
            return Main.EXIT_OK;
        }
    }

    @Command(name = "attention", mixinStandardHelpOptions = true,
            description = {"How focused a model's attention is, and how its captions fail: decodes the images of a features folder",
                    "(beam search as 'decode') and prints the mean per-word attention entropy (overall and by word position) and",
                    "mean largest weight against uniform attention, and the share of captions that repeat a phrase or end in a",
                    "function word, and the distinct words used. For models without attention, only the caption figures."})
    static final class Attention implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "Model folder.") Path model;
        @Option(names = "--features", required = true, description = "Features folder (from 'features').") Path features;
        @Option(names = "--captions", description = "Only the images of this captions file (with --split).") Path captions;
        @Option(names = "--split", description = "Split of --captions, e.g. dev.") String split;
        @picocli.CommandLine.Mixin BeamOptions search = new BeamOptions();
        @Option(names = "--positions", defaultValue = "12", description = "Word positions to list.") int positions;
        @Option(names = "--json", description = "Print one JSON object instead of text.") boolean asJson;
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            search.check(spec);
            Options.positive(spec, "--positions", positions);
            NativeSetup.init();
            var m = org.captioner.model.ModelBundle.load(model);
            try (var fs = new org.captioner.features.FeatureSet(features)) {
                var sel = DecodeCommand.Selection.of(m, fs, features, captions, split);
                var opts = search.resolve(m);
                var hyps = sel.features().caption(new org.captioner.decode.CaptionSearch(m.decoder(), m.vocabulary()), sel.rows(), opts, 100);
                boolean attends = m.config().type().attends();
                var att = new org.captioner.eval.AttentionStats(attends ? m.config().gridCells() : 1);
                var cs = new org.captioner.eval.CaptionStats();
                for (var h : hyps) {
                    cs.add(m.vocabulary().decode(h.tokens()));
                    if (attends) att.add(h.attention());
                }
                List<Double> byPos = new java.util.ArrayList<>();
                for (int k = 0; attends && k < Math.min(positions, att.positions()); k++) byPos.add(att.meanEntropyAt(k));
                var out = new java.util.LinkedHashMap<String, Object>();
                out.put("model", model.toString());
                out.put("images", hyps.size());
                out.put("beam", opts.beam());
                out.put("length_alpha", opts.lengthAlpha());
                if (attends) {
                    out.put("grid_cells", att.cells());
                    out.put("words", att.words());
                    out.put("mean_entropy", att.meanEntropy());
                    out.put("uniform_entropy", att.uniformEntropy());
                    out.put("mean_max_weight", att.meanMaxWeight());
                    out.put("uniform_max_weight", att.uniformMaxWeight());
                    out.put("entropy_by_position", byPos);
                }
                out.put("repeated_phrase_share", cs.repeatedPhraseShare());
                out.put("function_word_ending_share", cs.badEndingShare());
                out.put("distinct_words", cs.distinctWords());
                if (asJson) {
                    System.out.println(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(out));
                    return Main.EXIT_OK;
                }
                System.out.printf("%s: %d images, beam %d, length alpha %.2f%n", model, hyps.size(), opts.beam(), opts.lengthAlpha());
                if (attends) {
                    System.out.printf("  attention entropy per word: mean %.3f nats (uniform over %d cells: %.3f; %.3f below), %d words%n",
                            att.meanEntropy(), att.cells(), att.uniformEntropy(), att.uniformEntropy() - att.meanEntropy(), att.words());
                    System.out.printf("  largest weight per word:    mean %.4f (uniform: %.4f)%n", att.meanMaxWeight(), att.uniformMaxWeight());
                    StringBuilder sb = new StringBuilder("  entropy by word position:");
                    for (int k = 0; k < byPos.size(); k++) sb.append(String.format(" %d:%.2f", k + 1, byPos.get(k)));
                    System.out.println(sb);
                } else {
                    System.out.println("  (no attention: " + m.config().type().id() + " decoder)");
                }
                System.out.printf("  captions repeating a phrase (a trigram twice): %.1f%%; ending in a function word: %.1f%%; distinct words: %d%n",
                        100 * cs.repeatedPhraseShare(), 100 * cs.badEndingShare(), cs.distinctWords());
            }
            return Main.EXIT_OK;
        }
    }
}
