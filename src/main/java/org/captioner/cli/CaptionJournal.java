package org.captioner.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.captioner.CaptionRecord;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The progress file of {@code caption --out FILE}: {@code FILE.progress} beside the output, one JSON line per
 * image (its {@link CaptionRecord} as a JSONL line, with the n-best list and attention maps; or the error), appended and handed to the
 * operating system after every batch, and forced to disk with the first batch {@code fsyncMillis} after the last
 * time. After a crash at any moment (kill -9; a power loss may also lose the rows since the last force) it holds
 * every complete row written; a torn last
 * line is cut when it is reopened. The final output in the requested format is rendered from it and renamed into
 * place when the run completes; then the progress file is deleted.
 */
final class CaptionJournal implements Closeable {
    static final String SUFFIX = ".progress";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final FileChannel channel;
    private final long fsyncMillis;
    private final boolean keepAttention;
    private long lastSync = System.currentTimeMillis();

    private CaptionJournal(Path file, FileChannel channel, long fsyncMillis, boolean keepAttention) {
        this.file = file;
        this.channel = channel;
        this.fsyncMillis = fsyncMillis;
        this.keepAttention = keepAttention;
    }

    static Path pathFor(Path out) {
        return out.resolveSibling(out.getFileName() + SUFFIX);
    }

    /**
     * Opens for appending (created when absent; a torn last line from a crash is cut first).
     *
     * @param keepAttention record the per-word attention maps (only when the output or the report shows them: they are
     *                      most of a row's size)
     */
    static CaptionJournal open(Path file, long fsyncMillis, boolean keepAttention) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
        ch.truncate(completeLength(ch));
        ch.position(ch.size());
        return new CaptionJournal(file, ch, fsyncMillis, keepAttention);
    }

    /** Length of the file up to and including its last newline. */
    private static long completeLength(FileChannel ch) throws IOException {
        long size = ch.size();
        ByteBuffer b = ByteBuffer.allocate(8192);
        for (long end = size; end > 0; ) {
            long start = Math.max(0, end - b.capacity());
            b.clear().limit((int) (end - start));
            ch.read(b, start);
            for (int i = (int) (end - start) - 1; i >= 0; i--) {
                if (b.get(i) == '\n') return start + i + 1;
            }
            end = start;
        }
        return 0;
    }

    /** Appends a batch of rows as whole lines, one write; forced to disk when the interval has passed. */
    void append(List<CaptionRecord> rows) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (CaptionRecord r : rows) sb.append(JSON.writeValueAsString(line(r))).append('\n');
        ByteBuffer buf = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
        while (buf.hasRemaining()) channel.write(buf);
        if (System.currentTimeMillis() - lastSync >= fsyncMillis) sync();
    }

    void sync() throws IOException {
        channel.force(false);
        lastSync = System.currentTimeMillis();
    }

    @Override
    public void close() throws IOException {
        try {
            sync();
        } finally {
            channel.close();
        }
    }

    /** The complete rows of a progress file, by image (a later row for the same image replaces an earlier one). */
    static Map<String, CaptionRecord> read(Path file) throws IOException {
        Map<String, CaptionRecord> rows = new LinkedHashMap<>();
        if (!Files.exists(file)) return rows;
        String s = Files.readString(file, StandardCharsets.UTF_8);
        int end = s.lastIndexOf('\n');
        if (end < 0) return rows;
        for (String line : s.substring(0, end).split("\n")) {
            if (line.isBlank()) continue;
            CaptionRecord r = CaptionRecord.fromJson(JSON.readTree(line));
            rows.put(r.image(), r);
        }
        return rows;
    }

    /**
     * Where each image's row is in a progress file: its byte offset and length, in the order the rows were written (a
     * later row for the same image replaces an earlier one). The final output is rendered from the file row by row
     * through this index, so a run's memory does not grow with its rows (attention maps are most of a row).
     */
    static Map<String, long[]> index(Path file) throws IOException {
        Map<String, long[]> idx = new LinkedHashMap<>();
        try (java.io.InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
            long pos = 0, start = 0;
            for (int c; (c = in.read()) >= 0; ) {
                pos++;
                if (c != '\n') {
                    line.write(c);
                    continue;
                }
                if (line.size() > 0) {
                    String image = JSON.readTree(line.toByteArray()).path("image").asText();
                    idx.remove(image);
                    idx.put(image, new long[] {start, line.size()});
                }
                line.reset();
                start = pos;
            }
        }
        return idx;
    }

    /** The row at an {@link #index} entry. */
    static CaptionRecord row(FileChannel ch, long[] at) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(at[1]));
        while (b.hasRemaining()) if (ch.read(b, at[0] + b.position()) < 0) throw new IOException("progress file shorter than its index");
        return CaptionRecord.fromJson(JSON.readTree(b.array()));
    }

    /** The captioned rows of a finished JSONL output (from an earlier run), to continue it with --resume. */
    static Map<String, CaptionRecord> readJsonlOutput(Path out) throws IOException {
        Map<String, CaptionRecord> rows = new LinkedHashMap<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                continue; // not JSONL (another format) or damaged: that image is captioned again
            }
            if (n.has("image") && n.has("caption")) rows.put(n.get("image").asText(), CaptionRecord.fromJson(n));
        }
        return rows;
    }

    /** A record's line: its JSONL object with the n-best list (when there is one) and the attention maps (when kept). */
    private Map<String, Object> line(CaptionRecord r) {
        return r.json(true, r.ok() && r.caption().nbest().size() > 1, keepAttention);
    }
}
