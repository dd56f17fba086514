package org.captioner.data;

import org.captioner.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CaptionDatasetTest {
    @TempDir
    Path dir;

    static final String KARPATHY = """
            {"dataset": "flickr8k", "images": [
              {"filename": "a.jpg", "imgid": 0, "split": "train", "sentences": [{"raw": "A dog runs.", "tokens": ["a","dog","runs"]}, {"tokens": ["a","brown","dog"]}]},
              {"filename": "b.jpg", "imgid": 1, "split": "restval", "sentences": [{"raw": "Two cats."}]},
              {"filepath": "val2014", "filename": "COCO_val2014_000000000042.jpg", "cocoid": 42, "split": "test", "sentences": [{"raw": "A cat on a mat."}]}
            ]}""";

    @Test
    void karpathyFormat() throws Exception {
        Path f = Files.writeString(dir.resolve("dataset_test.json"), KARPATHY);
        assertEquals(CaptionDataset.Format.KARPATHY, CaptionDataset.detect(f));
        CaptionDataset ds = CaptionDataset.load(f);
        assertEquals(3, ds.images().size());
        assertEquals(List.of("A dog runs.", "a brown dog"), ds.images().get(0).captions());
        assertEquals(2, ds.split("train").size(), "restval counts as train");
        assertEquals(1, ds.split("test").size());
        assertEquals("val2014/COCO_val2014_000000000042.jpg", ds.byId(42).file());
        assertSame(ds.byId(42), ds.byName("COCO_val2014_000000000042.jpg"));
    }

    @Test
    void tsvAndCsv() throws Exception {
        Path tsv = Files.writeString(dir.resolve("c.tsv"), "image\tcaption\nx.jpg\ta cat\nx.jpg\ta small cat\ny.png\ta dog\n");
        CaptionDataset ds = CaptionDataset.load(tsv);
        assertEquals(2, ds.images().size());
        assertEquals(List.of("a cat", "a small cat"), ds.byName("x.jpg").captions());
        Path csv = Files.writeString(dir.resolve("c.csv"), "x.jpg,\"a cat, sitting\"\n");
        assertEquals(List.of("a cat, sitting"), CaptionDataset.load(csv).byName("x.jpg").captions());
        Path bad = Files.writeString(dir.resolve("bad.tsv"), "x.jpg a cat without a tab\n");
        IOException e = assertThrows(IOException.class, () -> CaptionDataset.load(bad));
        assertTrue(e.getMessage().contains("bad.tsv:1"), e.getMessage());
    }

    @Test
    void malformedJsonNamesLineAndColumn() throws Exception {
        Path f = Files.writeString(dir.resolve("captions_x.json"), "{\"images\": [\n  {\"id\": 1,, }\n]}");
        IOException e = assertThrows(IOException.class, () -> CaptionDataset.load(f));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        Path empty = Files.writeString(dir.resolve("captions_y.json"), "");
        assertTrue(assertThrows(IOException.class, () -> CaptionDataset.load(empty)).getMessage().contains("is empty"));
    }

    @Test
    void sharedFlickr8kWithSplits() throws Exception {
        CaptionDataset ds = CaptionDataset.load(SharedData.require("data/flickr8k/Flickr8k.token.txt"));
        assertEquals(CaptionDataset.Format.FLICKR8K, CaptionDataset.detect(SharedData.require("data/flickr8k/Flickr8k.token.txt")));
        assertEquals(6000, ds.split("train").size());
        assertEquals(1000, ds.split("dev").size());
        assertTrue(ds.split("train").stream().allMatch(i -> i.captions().size() == 5));
        assertEquals(5, ds.byName("1000268201_693b08cb0e.jpg").captions().size());
    }

    @Test
    void sharedCocoVal2017() throws Exception {
        CaptionDataset ds = CaptionDataset.load(SharedData.require("data/coco/annotations/captions_val2017.json"));
        assertEquals(5000, ds.images().size());
        assertEquals(25014, ds.captionCount());
        assertNotNull(ds.byName(ds.byId(ds.images().get(0).cocoId()).fileName()));
    }
}
