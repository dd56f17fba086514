package org.captioner.cli;

import org.captioner.CaptionRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CaptionJournalTest {
    @TempDir
    Path dir;

    /** The index points at each image's last complete row; a torn last line (a crash mid-write) is not in it. */
    @Test
    void indexFindsEachImagesLastRow() throws Exception {
        Path file = dir.resolve("out.jsonl.progress");
        try (CaptionJournal j = CaptionJournal.open(file, 0, false)) {
            j.append(List.of(record("b.jpg", "a dog"), record("a.jpg", "a cat")));
            j.append(List.of(record("b.jpg", "a brown dog runs")));
        }
        Files.writeString(file, "{\"image\":\"c.jpg\",\"capt", java.nio.file.StandardOpenOption.APPEND);
        Map<String, long[]> idx = CaptionJournal.index(file);
        assertEquals(List.of("a.jpg", "b.jpg"), new ArrayList<>(idx.keySet()), "in the order last written");
        try (FileChannel ch = FileChannel.open(file)) {
            assertEquals("a brown dog runs", CaptionJournal.row(ch, idx.get("b.jpg")).caption().text());
            assertEquals("a cat", CaptionJournal.row(ch, idx.get("a.jpg")).caption().text());
        }
        assertEquals(CaptionJournal.read(file).keySet(), idx.keySet(), "the same rows as the whole-file reader");
    }

    private static CaptionRecord record(String image, String text) {
        return CaptionRecord.fromJson(new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode()
                .put("image", image).put("caption", text).put("score", -1.5));
    }
}
