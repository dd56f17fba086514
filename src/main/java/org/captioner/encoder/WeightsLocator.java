package org.captioner.encoder;

import org.deeplearning4j.common.resources.DL4JResources;
import org.deeplearning4j.common.resources.ResourceType;
import org.deeplearning4j.zoo.PretrainedType;
import org.deeplearning4j.zoo.ZooModel;
import org.deeplearning4j.zoo.model.SqueezeNet;
import org.deeplearning4j.zoo.model.VGG16;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Finds an encoder's pretrained ImageNet weights, in this order:
 * <ol>
 *   <li>an explicit file (the {@code --weights} flag): a Keras {@code .h5} or a DL4J model zip;</li>
 *   <li>a file under its conventional name in the folder named by {@code CAPTIONER_WEIGHTS_DIR};</li>
 *   <li>the DL4J zoo: its cache, else a download verified against the zoo's checksum. The zoo base URL
 *       can be moved with {@code CAPTIONER_ZOO_URL} (a mirror, or a {@code file:} folder).</li>
 * </ol>
 * When nothing works, the error lists every place that was tried.
 */
public final class WeightsLocator {
    public static final String WEIGHTS_DIR_ENV = "CAPTIONER_WEIGHTS_DIR";
    public static final String ZOO_URL_ENV = "CAPTIONER_ZOO_URL";
    public static final String ZOO_CACHE_ENV = "CAPTIONER_ZOO_CACHE";

    /** A weights file and how it was found. */
    public record Located(Path file, String origin) {
    }

    private final Map<String, String> env;

    public WeightsLocator() {
        this(System.getenv());
    }

    public WeightsLocator(Map<String, String> env) {
        this.env = env;
    }

    public Located locate(EncoderType type, Path explicit) throws IOException {
        if (explicit != null) {
            if (!Files.isRegularFile(explicit)) throw new IOException("weights file " + explicit + " does not exist");
            return new Located(explicit, "--weights " + explicit);
        }
        List<String> tried = new ArrayList<>();
        String dir = env.get(WEIGHTS_DIR_ENV);
        if (dir != null && !dir.isBlank()) {
            for (String name : type.conventionalWeightFiles) {
                Path p = Path.of(dir).resolve(name);
                if (Files.isRegularFile(p)) return new Located(p, WEIGHTS_DIR_ENV + "=" + dir);
                tried.add(p.toString());
            }
        } else {
            tried.add(WEIGHTS_DIR_ENV + " (not set)");
        }
        ZooModel<?> zoo = zooModel(type);
        String base = env.get(ZOO_URL_ENV);
        if (base != null && !base.isBlank()) DL4JResources.setBaseDownloadURL(base.endsWith("/") ? base : base + "/");
        String url = zoo.pretrainedUrl(PretrainedType.IMAGENET);
        long checksum = zoo.pretrainedChecksum(PretrainedType.IMAGENET);
        try {
            Path file = new ZooDownloader(zooCache(type, zoo)).fetch(url, checksum);
            return new Located(file, "DL4J zoo " + url);
        } catch (ZooDownloader.ChecksumMismatchException e) {
            throw e;
        } catch (IOException e) {
            tried.add("DL4J zoo download " + url + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
            throw new IOException("no " + type + " weights found. Needed: " + type.conventionalWeightFiles.get(0)
                    + " (or any of " + type.conventionalWeightFiles + "). Looked in: " + String.join("; ", tried)
                    + ". Pass --weights FILE or set " + WEIGHTS_DIR_ENV + " to the folder holding it.");
        }
    }

    private Path zooCache(EncoderType type, ZooModel<?> zoo) {
        String cache = env.get(ZOO_CACHE_ENV);
        if (cache != null && !cache.isBlank()) return Path.of(cache).resolve(zoo.modelName());
        return DL4JResources.getDirectory(ResourceType.ZOO_MODEL, zoo.modelName()).toPath();
    }

    static ZooModel<?> zooModel(EncoderType type) {
        return switch (type) {
            case SQUEEZENET -> SqueezeNet.builder().build();
            case VGG16 -> VGG16.builder().numClasses(1000).build();
            case MOBILENETV2 -> throw new IllegalArgumentException("the DL4J zoo has no mobilenetv2");
        };
    }
}
