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
 *   <li>an explicit file (the {@code --weights} flag);</li>
 *   <li>a file in the folder named by {@code CAPTIONER_WEIGHTS_DIR}, under its conventional name or under the
 *       pinned URL's own file name (as a browser saves it);</li>
 *   <li>the local cache ({@code CAPTIONER_WEIGHTS_CACHE}, default {@code $XDG_CACHE_HOME/captioner/weights} or
 *       {@code ~/.cache/captioner/weights}), holding the pinned file when its SHA-256 matches;</li>
 *   <li>a download of the pinned file from its public URL (a commit, never a branch), verified by SHA-256 before
 *       it is cached; {@code CAPTIONER_WEIGHTS_MIRROR=URL} replaces the URL's base (the file name is appended),
 *       for air-gapped sites and tests ({@code file:} URLs work);</li>
 *   <li>for encoders the DL4J zoo has: its cache, else a download verified against the zoo's checksum
 *       ({@code CAPTIONER_ZOO_URL} moves the zoo's base URL, {@code CAPTIONER_ZOO_CACHE} its cache). The zoo's
 *       SqueezeNet is a different file from the pinned one: models trained on one do not accept the other.</li>
 * </ol>
 * A corrupt or truncated download is deleted and reported, never cached and never silently replaced by the
 * next source. When nothing works, the error lists every place that was tried.
 */
public final class WeightsLocator {
    public static final String WEIGHTS_DIR_ENV = "CAPTIONER_WEIGHTS_DIR";
    public static final String WEIGHTS_CACHE_ENV = "CAPTIONER_WEIGHTS_CACHE";
    public static final String WEIGHTS_MIRROR_ENV = "CAPTIONER_WEIGHTS_MIRROR";
    public static final String ZOO_URL_ENV = "CAPTIONER_ZOO_URL";
    public static final String ZOO_CACHE_ENV = "CAPTIONER_ZOO_CACHE";

    /** A weights file and how it was found. */
    public record Located(Path file, String origin) {
    }

    private final Map<String, String> env;
    private final boolean progress;

    public WeightsLocator() {
        this(System.getenv(), true);
    }

    public WeightsLocator(Map<String, String> env) {
        this(env, false);
    }

    public WeightsLocator(Map<String, String> env, boolean progress) {
        this.env = env;
        this.progress = progress;
    }

    public Located locate(EncoderType type, Path explicit) throws IOException {
        if (explicit != null) {
            if (!Files.isRegularFile(explicit)) throw new IOException("weights file " + explicit + " does not exist");
            return new Located(explicit, "--weights " + explicit);
        }
        List<String> tried = new ArrayList<>();
        String dir = get(WEIGHTS_DIR_ENV);
        if (dir != null) {
            for (String name : acceptedFileNames(type)) {
                Path p = Path.of(dir).resolve(name);
                if (Files.isRegularFile(p)) return new Located(p, WEIGHTS_DIR_ENV + "=" + dir);
                tried.add(p.toString());
            }
        } else {
            tried.add(WEIGHTS_DIR_ENV + " (not set)");
        }
        if (type.pinned != null) {
            EncoderType.PinnedWeights pin = type.pinned;
            WeightsDownloader.Checksum sha = WeightsDownloader.Checksum.sha256(pin.sha256());
            WeightsDownloader cache = new WeightsDownloader(cacheDir(), 20_000, progress);
            Path hit = cache.cached(pin.fileName(), sha);
            if (hit != null) return new Located(hit, "cache " + hit);
            tried.add("cache " + cacheDir().resolve(pin.fileName()));
            String url = pinnedUrl(pin);
            try {
                Path file = cache.fetch(url, sha);
                return new Located(file, url);
            } catch (WeightsDownloader.CorruptDownloadException e) {
                throw e;
            } catch (IOException e) {
                tried.add("download " + url + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
            }
        }
        if (type.inZoo()) {
            ZooModel<?> zoo = zooModel(type);
            String base = get(ZOO_URL_ENV);
            if (base != null) DL4JResources.setBaseDownloadURL(base.endsWith("/") ? base : base + "/");
            String url = zoo.pretrainedUrl(PretrainedType.IMAGENET);
            long checksum = zoo.pretrainedChecksum(PretrainedType.IMAGENET);
            try {
                Path file = new WeightsDownloader(zooCache(zoo), 20_000, progress).fetch(url, WeightsDownloader.Checksum.adler32(checksum));
                return new Located(file, "DL4J zoo " + url);
            } catch (WeightsDownloader.CorruptDownloadException e) {
                throw e;
            } catch (IOException e) {
                tried.add("DL4J zoo download " + url + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
            }
        }
        String pinned = type.pinned == null ? "" : " The pinned file is " + type.pinned.url() + " (SHA-256 "
                + type.pinned.sha256() + "); offline, put it in " + WEIGHTS_DIR_ENV + " or point " + WEIGHTS_MIRROR_ENV
                + " at a folder or server holding it.";
        throw new IOException("no " + type + " weights found. Needed: " + type.conventionalWeightFiles.get(0)
                + " (or any of " + acceptedFileNames(type) + "). Looked in: " + String.join("; ", tried)
                + ". Pass --weights FILE or set " + WEIGHTS_DIR_ENV + " to the folder holding it." + pinned);
    }

    /** The names a weights file may have in {@code CAPTIONER_WEIGHTS_DIR}: the conventional ones, then the pinned URL's. */
    static List<String> acceptedFileNames(EncoderType type) {
        List<String> names = new ArrayList<>(type.conventionalWeightFiles);
        if (type.pinned != null && !names.contains(type.pinned.fileName())) names.add(type.pinned.fileName());
        return names;
    }

    /** The URL the pinned file is downloaded from: its own, or the same file name under the mirror. */
    String pinnedUrl(EncoderType.PinnedWeights pin) {
        String mirror = get(WEIGHTS_MIRROR_ENV);
        if (mirror == null) return pin.url();
        return (mirror.endsWith("/") ? mirror : mirror + "/") + pin.fileName();
    }

    public Path cacheDir() {
        String c = get(WEIGHTS_CACHE_ENV);
        if (c != null) return Path.of(c);
        String xdg = get("XDG_CACHE_HOME");
        Path base = xdg != null ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("captioner").resolve("weights");
    }

    private String get(String key) {
        String v = env.get(key);
        return v == null || v.isBlank() ? null : v;
    }

    private Path zooCache(ZooModel<?> zoo) {
        String cache = get(ZOO_CACHE_ENV);
        if (cache != null) return Path.of(cache).resolve(zoo.modelName());
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
