package org.captioner.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.GlobFilter;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.captioner.image.ImageFiles;

import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;

/**
 * The job's input: {@code (path, content)} rows from Spark's {@code binaryFile} source, which lists and reads the files
 * on the executors (the driver only lists, as for any Spark file source). Inputs are Hadoop paths or globs on any
 * file system the cluster's Hadoop configuration reads (file:, hdfs:, s3a:). As the CLI: folders give their image files
 * by extension, case-insensitively, sub-folders only with {@code --recursive}; a file named directly is taken whatever
 * its extension, so a mislabelled file is reported rather than skipped.
 */
final class ImageInputs {
    private ImageInputs() {
    }

    /** A Hadoop glob matching the CLI's image extensions in any case: {@code *.{[jJ][pP][gG],...}}. */
    static String extensionGlob() {
        return "*.{" + ImageFiles.EXTENSIONS.stream().sorted().map(ext -> {
            StringBuilder b = new StringBuilder();
            for (char c : ext.toCharArray()) b.append('[').append(Character.toLowerCase(c)).append(Character.toUpperCase(c)).append(']');
            return b.toString();
        }).collect(Collectors.joining(",")) + "}";
    }

    /** The rows, and into {@code empties} the zero-length image files (which Spark's listing leaves out). */
    static Dataset<Row> read(SparkSession spark, List<String> inputs, boolean recursive, List<String> empties) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Dataset<Row> all = null;
        for (String in : inputs) {
            Path p = new Path(in);
            FileSystem fs = p.getFileSystem(conf);
            boolean glob = in.matches(".*[*?\\[{].*");
            FileStatus st = glob ? null : statusOrNull(fs, p);
            if (!glob && st == null) throw new IOException("no such file or folder: " + in);
            boolean file = st != null && st.isFile();
            var reader = spark.read().format("binaryFile").option("recursiveFileLookup", "true");
            if (!file) reader = reader.option("pathGlobFilter", extensionGlob());
            Dataset<Row> d = reader.load(in).select("path", "content");
            if (!file && !recursive && !glob) {
                // binaryFile lists sub-folders too; without --recursive keep the folder's own files, as the CLI
                String root = fs.makeQualified(p).toString().replaceAll("/+$", "");
                d = d.filter(regexp_extract(col("path"), "^(.*)/[^/]*$", 1).equalTo(root));
            }
            all = all == null ? d : all.union(d);
            empties.addAll(emptyFiles(fs, glob ? fs.globStatus(p) : new FileStatus[] {st}, glob, file, recursive));
        }
        if (all == null) throw new IllegalArgumentException("no inputs");
        return all;
    }

    /**
     * Zero-length files among the inputs. Spark's file sources drop them when listing (SPARK-27291), but the job owes
     * each input file a row, so the driver finds them in a second, streamed listing (only their names are kept) and
     * writes them as error rows. {@code roots}: the input's status, or its glob's matches.
     */
    static List<String> emptyFiles(FileSystem fs, FileStatus[] roots, boolean glob, boolean file, boolean recursive) throws IOException {
        record Entry(FileStatus status, int depth) {
        }
        List<String> out = new java.util.ArrayList<>();
        GlobFilter images = new GlobFilter(extensionGlob());
        if (roots == null) return out;                          // a glob that matches nothing
        // listStatusIterator, not listFiles: listFiles' LocatedFileStatus reads each file's permissions, which on the
        // local file system forks `ls -ld` per file (seconds per thousand files)
        java.util.ArrayDeque<Entry> todo = new java.util.ArrayDeque<>();
        for (FileStatus r : roots) todo.add(new Entry(r, 0));
        while (!todo.isEmpty()) {
            Entry e = todo.poll();
            FileStatus f = e.status();
            String n = f.getPath().getName();
            if (f.isFile()) {
                boolean named = e.depth() == 0 && file;          // a file given by name is taken whatever its extension
                if (f.getLen() == 0 && (named || images.accept(f.getPath())) && !n.startsWith("_") && !n.startsWith(".")) {
                    out.add(fs.makeQualified(f.getPath()).toString());
                }
            } else if (e.depth() == 0 || recursive || glob) {
                RemoteIterator<FileStatus> it = fs.listStatusIterator(f.getPath());
                while (it.hasNext()) todo.add(new Entry(it.next(), e.depth() + 1));
            }
        }
        return out;
    }

    private static FileStatus statusOrNull(FileSystem fs, Path p) throws IOException {
        try {
            return fs.getFileStatus(p);
        } catch (java.io.FileNotFoundException e) {
            return null;
        }
    }
}
