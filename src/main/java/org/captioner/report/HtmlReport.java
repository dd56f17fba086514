package org.captioner.report;

import org.captioner.Caption;
import org.captioner.image.ImageDecoder;
import org.captioner.util.AtomicFiles;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.apache.commons.text.StringEscapeUtils.escapeHtml4;

/**
 * A static HTML gallery of captioned images that opens from disk with no server and no network: thumbnails,
 * caption, log-probability, n-best list, failures, and for attention models one heatmap per generated word
 * (the image lit where the model looked, as in Show, Attend and Tell).
 * <p>
 * Layout of the report folder: {@code index.html} (summary and the first page), {@code page-0002.html}, ... with
 * {@value #PER_PAGE} images each, and {@code img/} with the JPEG thumbnails and heatmaps. Entries are written
 * page by page as images arrive, so memory stays flat for any number of images; every file is written
 * atomically. All text from outside (file names, captions, errors) is HTML-escaped.
 */
public final class HtmlReport {
    public static final int PER_PAGE = 100;
    static final int THUMB = 320, HEAT = 160;

    private final Path dir;
    private final String title;
    private final boolean markReadCell;
    private final ImageDecoder decoder = new ImageDecoder();
    private final List<String> page = new ArrayList<>();       // entries of the page being filled
    private List<String> firstPage;                           // kept for index.html
    private final List<String> failures = new ArrayList<>();  // at most 1,000 listed on the index
    private int pages, images, captioned, failed;

    /**
     * @param dir   the report folder (created; an existing report in it is replaced only when {@code overwrite})
     * @param title shown at the top, e.g. the model and the input folder
     */
    public HtmlReport(Path dir, String title, boolean overwrite) throws IOException {
        this(dir, title, overwrite, false);
    }

    /**
     * @param markReadCell outline, on each word's heatmap, the cell with the largest weight: what a hard-attention
     *                     model read for that word (its decoding takes the most likely cell)
     */
    public HtmlReport(Path dir, String title, boolean overwrite, boolean markReadCell) throws IOException {
        this.dir = dir;
        this.title = title;
        this.markReadCell = markReadCell;
        if (Files.exists(dir.resolve("index.html")) && !overwrite) {
            throw new IOException(dir + " already holds a report (index.html); pass --overwrite to replace it");
        }
        Files.createDirectories(dir.resolve("img"));
    }

    /** Adds a captioned image; {@code file} is read again for the thumbnail (a failure there is noted, not fatal). */
    public void add(String name, Path file, Caption c) throws IOException {
        int id = ++images;
        captioned++;
        StringBuilder h = new StringBuilder();
        h.append("<figure class=\"card\" id=\"i").append(id).append("\">");
        BufferedImage thumb = null;
        try {
            thumb = scaleToFit(ImageDecoder.toRgb(decoder.decode(file)), THUMB);
            writeJpeg(thumb, dir.resolve("img/" + id + ".jpg"));
            h.append("<a href=\"").append(escapeHtml4(file.toAbsolutePath().toUri().toString())).append("\">")
                    .append("<img class=\"thumb\" src=\"img/").append(id).append(".jpg\" alt=\"").append(escapeHtml4(c.text())).append("\"></a>");
        } catch (IOException | RuntimeException e) {
            h.append("<div class=\"nothumb\">no thumbnail: ").append(escapeHtml4(String.valueOf(e.getMessage()))).append("</div>");
        }
        h.append("<figcaption><div class=\"name\">").append(escapeHtml4(name)).append("</div>");
        h.append("<div class=\"caption\">").append(escapeHtml4(c.text())).append("</div>");
        h.append("<div class=\"score\">log p = ").append(String.format(Locale.ROOT, "%.3f", c.score())).append("</div>");
        if (c.nbest().size() > 1) {
            h.append("<ol class=\"nbest\">");
            for (Caption n : c.nbest()) {
                h.append("<li>").append(escapeHtml4(n.text())).append(" <span class=\"score\">")
                        .append(String.format(Locale.ROOT, "%.3f", n.score())).append("</span></li>");
            }
            h.append("</ol>");
        }
        if (thumb != null && !c.attention().isEmpty()) h.append(heatmaps(id, thumb, c));
        h.append("</figcaption></figure>\n");
        entry(h.toString());
    }

    /** Adds an image that could not be captioned, with the reason. */
    public void addError(String name, String reason) throws IOException {
        images++;
        failed++;
        String n = escapeHtml4(name), r = escapeHtml4(reason);
        if (failures.size() < 1000) failures.add("<li><span class=\"name\">" + n + "</span>: " + r + "</li>");
        entry("<figure class=\"card failed\"><figcaption><div class=\"name\">" + n + "</div><div class=\"error\">not captioned: "
                + r + "</div></figcaption></figure>\n");
    }

    /** One small image per word (and the final end token): the thumbnail lit by that step's attention. */
    private String heatmaps(int id, BufferedImage thumb, Caption c) throws IOException {
        BufferedImage small = scaleToFit(thumb, HEAT);
        StringBuilder h = new StringBuilder("<div class=\"attention\">");
        List<String> words = new ArrayList<>(c.tokens());
        words.add("<end>");
        int[] read = markReadCell ? org.captioner.CaptionRecord.peakCells(c) : null;
        int[] grid = org.captioner.CaptionRecord.attentionGrid(c.attention().get(0).length);
        for (int k = 0; k < c.attention().size() && k < words.size(); k++) {
            String f = "img/" + id + "-" + k + ".jpg";
            writeJpeg(AttentionOverlay.render(small, c.attention().get(k), read == null ? -1 : read[k]), dir.resolve(f));
            String cell = read == null ? "" : " (read cell row " + (read[k] / grid[1] + 1) + ", column " + (read[k] % grid[1] + 1) + ")";
            h.append("<figure class=\"word\"><img src=\"").append(f).append("\" alt=\"attention for ")
                    .append(escapeHtml4(words.get(k))).append(cell).append("\"");
            if (read != null) h.append(" data-read-cell=\"").append(read[k]).append("\"");
            h.append("><figcaption>").append(escapeHtml4(words.get(k))).append("</figcaption></figure>");
        }
        return h.append("</div>").toString();
    }

    private void entry(String html) throws IOException {
        if (page.size() == PER_PAGE) flushPage(true);   // a full page is written once we know another follows
        page.add(html);
    }

    /** Writes the filled page; pages after the first are final at once, the first waits for the index. */
    private void flushPage(boolean more) throws IOException {
        pages++;
        if (pages == 1) {
            firstPage = new ArrayList<>(page);
        } else {
            AtomicFiles.writeString(dir.resolve(pageFile(pages)), document("page " + pages, nav(pages, more) + grid(page) + nav(pages, more)));
        }
        page.clear();
    }

    /** Writes the last page and index.html (summary, failures, first page, links to all pages). */
    public void finish() throws IOException {
        flushPage(false);
        StringBuilder body = new StringBuilder();
        body.append("<p class=\"summary\">").append(images).append(" images: ").append(captioned).append(" captioned, ")
                .append(failed).append(" failed.</p>");
        if (!failures.isEmpty()) {
            body.append("<details class=\"failures\"><summary>").append(failed).append(" images could not be captioned</summary><ul>");
            failures.forEach(body::append);
            body.append("</ul></details>");
        }
        if (pages > 1) {
            body.append("<nav class=\"pages\">pages:");
            for (int p = 1; p <= pages; p++) {
                body.append(" <a href=\"").append(pageFile(p)).append("\">").append(p).append("</a>");
            }
            body.append("</nav>");
        }
        body.append(grid(firstPage));
        if (pages > 1) body.append(nav(1, true));
        AtomicFiles.writeString(dir.resolve("index.html"), document(null, body.toString()));
    }

    public Path index() {
        return dir.resolve("index.html");
    }

    static String pageFile(int p) {
        return p == 1 ? "index.html" : String.format(Locale.ROOT, "page-%04d.html", p);
    }

    private String nav(int p, boolean more) {
        StringBuilder h = new StringBuilder("<nav class=\"prevnext\">");
        if (p > 1) h.append("<a href=\"").append(pageFile(p - 1)).append("\">&larr; previous</a> ");
        h.append("page ").append(p);
        if (more) h.append(" <a href=\"").append(pageFile(p + 1)).append("\">next &rarr;</a>");
        return h.append("</nav>").toString();
    }

    private static String grid(List<String> entries) {
        return "<main class=\"grid\">\n" + String.join("", entries) + "</main>";
    }

    private String document(String subtitle, String body) {
        String t = escapeHtml4(title) + (subtitle == null ? "" : " &middot; " + subtitle);
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + t + "</title>\n<style>" + CSS
                + "</style></head>\n<body><h1>" + t + "</h1>\n" + body + "\n<script>" + CHECK_SCRIPT + "</script></body></html>\n";
    }

    private static final String CSS = """
            body{font-family:system-ui,sans-serif;margin:1.5em;background:#fafafa;color:#222}
            h1{font-size:1.3em}.summary{color:#555}
            .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:1em}
            .card{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px}
            .card.failed{border-color:#d88;background:#fff5f5}
            .thumb{max-width:100%;display:block;margin:auto}
            .name{font-size:.8em;color:#777;word-break:break-all}.caption{font-size:1.1em;margin:.3em 0}
            .score{font-size:.8em;color:#888}.error{color:#a00}.nbest{font-size:.9em;margin:.3em 0;padding-left:1.4em}
            .attention{display:flex;flex-wrap:wrap;gap:4px;margin-top:.5em}
            .word{margin:0;text-align:center;font-size:.8em}.word img{display:block;width:80px}
            nav{margin:1em 0}""";

    /**
     * Marks the page once every image has loaded or failed, with the counts, so a headless browser can tell that
     * the thumbnails really decode (the report test reads these attributes from the rendered DOM).
     */
    private static final String CHECK_SCRIPT = """
            window.addEventListener('load',function(){var ok=0,bad=0;
            document.querySelectorAll('img').forEach(function(i){if(i.complete&&i.naturalWidth>0)ok++;else bad++;});
            document.body.setAttribute('data-images-loaded',ok);document.body.setAttribute('data-images-broken',bad);});""";

    /** Scales so the longest side is at most {@code longest} pixels (never enlarges). */
    public static BufferedImage scaleToFit(BufferedImage src, int longest) {
        double f = Math.min(1.0, (double) longest / Math.max(src.getWidth(), src.getHeight()));
        int w = Math.max(1, (int) Math.round(src.getWidth() * f)), h = Math.max(1, (int) Math.round(src.getHeight() * f));
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(src, 0, 0, w, h, null);
        g.dispose();
        return out;
    }

    static void writeJpeg(BufferedImage img, Path file) throws IOException {
        ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
            w.setOutput(out);
            ImageWriteParam p = w.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(0.85f);
            w.write(null, new IIOImage(img, null, null), p);
        } finally {
            w.dispose();
        }
        AtomicFiles.write(file, o -> bytes.writeTo(o));
    }
}
