package org.captioner.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The committed results tables are exactly what {@code captioner models table} generates from models/. */
class ModelsTableTest {
    static final Path ROOT = Path.of("").toAbsolutePath();

    @Test
    void committedTablesEqualTheGeneratedOnes() throws Exception {
        Map<String, String> tables = ModelsCommand.tables(ROOT.resolve("models"));
        for (String doc : new String[] {"README.md", "docs/results.md"}) {
            String text = Files.readString(ROOT.resolve(doc));
            assertTrue(text.contains("<!-- table:"), doc + " has generated tables");
            assertEquals(ModelsCommand.fill(text, tables), text,
                    doc + " differs from the generated tables: run ./captioner models table --write");
        }
        assertTrue(tables.get("default").contains("| `models/default` | mobilenetv2 |"), tables.get("default"));
    }

    @Test
    void fillReplacesOnlyBetweenMarkersAndRefusesUnknownNames() {
        Map<String, String> t = Map.of("a", "| x |\n");
        assertEquals("top\n<!-- table:a -->\n| x |\n<!-- /table:a -->\nend",
                ModelsCommand.fill("top\n<!-- table:a -->\nold rows\n<!-- /table:a -->\nend", t));
        assertThrows(IllegalArgumentException.class, () -> ModelsCommand.fill("<!-- table:b -->\n<!-- /table:b -->", t));
        assertThrows(IllegalArgumentException.class, () -> ModelsCommand.fill("<!-- table:a -->\nno end", t));
    }
}
