package org.captioner.spark;

import org.apache.spark.SparkFiles;
import org.captioner.pipeline.CaptionPipeline;
import org.captioner.encoder.EncoderType;
import org.captioner.encoder.Encoders;
import org.captioner.encoder.ImageEncoder;
import org.captioner.encoder.NativeSetup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * One {@link CaptionPipeline} (or encoder) per executor JVM, loaded by the first task that needs it and reused by every
 * later task of the JVM: loading a model costs seconds, a task lasts about as long. Keyed by the settings, so two
 * jobs with other options in one JVM (local mode, tests) do not share a wrong one.
 */
final class ExecutorResources {
    private static final Map<JobSettings, CaptionPipeline> PIPELINES = new HashMap<>();
    private static final Map<JobSettings, ImageEncoder> ENCODERS = new HashMap<>();

    private ExecutorResources() {
    }

    static synchronized CaptionPipeline pipeline(JobSettings s) throws IOException {
        CaptionPipeline p = PIPELINES.get(s);
        if (p == null) {
            NativeSetup.init();
            p = CaptionPipeline.load(shipped(s.modelArchive()), shipped(s.weightsFile()));
            PIPELINES.put(s, p);
        }
        return p;
    }

    static synchronized ImageEncoder encoder(JobSettings s) throws IOException {
        ImageEncoder e = ENCODERS.get(s);
        if (e == null) {
            NativeSetup.init();
            Path w = shipped(s.weightsFile());
            e = Encoders.load(EncoderType.parse(s.encoder()), w, w.toString());
            ENCODERS.put(s, e);
        }
        return e;
    }

    /** Where this executor's copy of a shipped file (or unpacked archive) is. */
    static Path shipped(String name) {
        return Path.of(SparkFiles.get(name));
    }
}
