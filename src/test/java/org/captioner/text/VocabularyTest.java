package org.captioner.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class VocabularyTest {
    @Test
    void minCountSpecialsEncodeDecode(@TempDir Path dir) throws Exception {
        Vocabulary v = Vocabulary.build(List.of("A dog runs.", "a DOG sits", "a cat"), 2);
        assertEquals(List.of("<pad>", "<start>", "<end>", "<unk>", "a", "dog"), List.of(v.word(0), v.word(1), v.word(2), v.word(3), v.word(4), v.word(5)));
        assertEquals(6, v.size());
        assertArrayEquals(new int[] {4, 5, Vocabulary.UNK}, v.encode("a dog sits", 20));
        assertArrayEquals(new int[] {4, 5}, v.encode("a dog sits", 2), "cut to the maximum length");
        assertEquals(List.of("a", "dog"), v.decode(new int[] {4, 5, Vocabulary.END, 4}));
        v.save(dir.resolve("v.json"));
        Vocabulary w = Vocabulary.load(dir.resolve("v.json"));
        assertEquals(v.size(), w.size());
        assertEquals(5, w.id("dog"));
    }
}
