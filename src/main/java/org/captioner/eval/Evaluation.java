package org.captioner.eval;

import org.captioner.data.CaptionDataset;
import org.captioner.data.ImageCaptions;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Matches generated captions to references and scores them. Nothing is dropped silently: results whose
 * image has no references, references without a result, and duplicate results are counted and listed.
 */
public final class Evaluation {
    /** Outcome: scores over the matched images plus everything that did not match. */
    public record Report(Scores scores, List<String> hypotheses, List<List<String>> references,
                         List<String> unknownResults, int referencesWithoutResult, int referenceImages, int errorLines) {
    }

    private Evaluation() {
    }

    /**
     * @param allowUnknown score the matched images even when some results name images the references do not
     *                     have; otherwise that is an error (usually the wrong references file or split)
     */
    public static Report run(CaptionDataset refs, String split, CaptionResults results, boolean allowUnknown) throws IOException {
        List<ImageCaptions> pool = refs.split(split);
        if (pool.isEmpty()) {
            throw new IOException(refs.source() + (split == null ? " has no images" : " has no images in split '" + split + "'"));
        }
        Set<ImageCaptions> inPool = new LinkedHashSet<>(pool);
        Map<ImageCaptions, CaptionResults.Entry> matched = new HashMap<>();
        List<String> unknown = new ArrayList<>();
        for (CaptionResults.Entry e : results.entries()) {
            ImageCaptions ic = e.imageId() >= 0 ? refs.byId(e.imageId()) : null;
            if (ic == null && e.image() != null) ic = refs.byName(e.image());
            if (ic == null || !inPool.contains(ic)) {
                unknown.add(e.label());
                continue;
            }
            CaptionResults.Entry prev = matched.putIfAbsent(ic, e);
            if (prev != null) throw new IOException("two results for image " + ic.file() + ": \"" + prev.caption() + "\" and \"" + e.caption() + "\"");
        }
        if (matched.isEmpty()) {
            throw new IOException("none of the " + results.entries().size() + " results matches an image of " + refs.source()
                    + (split == null ? "" : " (split " + split + ")") + "; first unknown: " + unknown.subList(0, Math.min(5, unknown.size())));
        }
        if (!unknown.isEmpty() && !allowUnknown) {
            throw new IOException(unknown.size() + " results name images not in the references (e.g. "
                    + unknown.subList(0, Math.min(5, unknown.size())) + "); pass --ignore-unknown to score the rest");
        }
        List<String> keys = new ArrayList<>(), hyps = new ArrayList<>();
        List<List<String>> rs = new ArrayList<>();
        for (ImageCaptions ic : pool) {
            CaptionResults.Entry e = matched.get(ic);
            if (e == null) continue;
            keys.add(ic.cocoId() >= 0 ? Long.toString(ic.cocoId()) : ic.file());
            hyps.add(e.caption());
            rs.add(ic.captions());
        }
        Scores scores = Scores.of(keys, hyps, rs);
        return new Report(scores, hyps, rs, unknown, pool.size() - matched.size(), pool.size(), results.errorLines());
    }
}
