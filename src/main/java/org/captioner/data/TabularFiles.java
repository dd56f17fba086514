package org.captioner.data;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code image, caption} files: TSV (split on the first tab) or CSV (RFC 4180 quoting, via Jackson; columns after the
 * second, such as {@code caption --format csv}'s score and error, are kept).
 */
public final class TabularFiles {
    private TabularFiles() {
    }

    public static List<String[]> read(Path file) throws IOException {
        List<String[]> rows = new ArrayList<>();
        boolean csv = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv");
        if (csv) {
            CsvMapper m = new CsvMapper().enable(CsvParser.Feature.WRAP_AS_ARRAY);
            try (MappingIterator<String[]> it = m.readerFor(String[].class).with(CsvSchema.emptySchema()).readValues(file.toFile())) {
                int n = 0;
                while (it.hasNext()) {
                    String[] r = it.next();
                    n++;
                    if (r.length == 1 && r[0].isBlank()) continue;
                    if (r.length < 2) throw new IOException(file + ":" + n + ": expected image,caption");
                    String[] row = new String[r.length];                // image, caption, and any further columns
                    for (int i = 0; i < r.length; i++) row[i] = r[i].strip();
                    rows.add(row);
                }
            }
        } else {
            int n = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                n++;
                if (line.isBlank()) continue;
                int tab = line.indexOf('\t');
                if (tab < 0) throw new IOException(file + ":" + n + ": expected image<TAB>caption, got: " + CaptionDataset.abbreviate(line));
                rows.add(new String[] {line.substring(0, tab).strip(), line.substring(tab + 1).strip()});
            }
        }
        if (!rows.isEmpty() && rows.get(0)[0].equalsIgnoreCase("image")) rows.remove(0);
        return rows;
    }
}
