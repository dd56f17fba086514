package org.captioner.util;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;

/** JSON parsing whose errors say which file, line and column, so a user can fix the input. */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    public static JsonNode read(Path file) throws IOException {
        try {
            return MAPPER.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw malformed(file, e, 0);
        }
    }

    /** Parses {@code text}, which is line {@code lineNo} of {@code file} (0: the whole file). */
    public static JsonNode parse(Path file, String text, int lineNo) throws IOException {
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw malformed(file, e, lineNo);
        }
    }

    private static IOException malformed(Path file, JsonProcessingException e, int lineNo) {
        var loc = e.getLocation();
        String where = lineNo > 0 ? " at line " + lineNo + (loc == null ? "" : ", column " + loc.getColumnNr())
                : (loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr());
        return new IOException("malformed JSON in " + file + where + ": " + e.getOriginalMessage(), e);
    }
}
