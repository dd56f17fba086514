package org.captioner.report;

import org.captioner.Caption;
import org.captioner.testing.Browser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class HtmlReportIT {
    /** A photo-like test image: left half red, right half blue, so heatmaps have something to show. */
    static Path writeImage(Path file) throws IOException {
        BufferedImage img = new BufferedImage(400, 300, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(200, 40, 40));
        g.fillRect(0, 0, 200, 300);
        g.setColor(new Color(40, 60, 210));
        g.fillRect(200, 0, 200, 300);
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
        return file;
    }

    /** Attention on one grid cell per word (a 13 x 13 grid, as SqueezeNet's). */
    static List<float[]> maps(int words) {
        List<float[]> m = new ArrayList<>();
        for (int k = 0; k < words; k++) {
            float[] a = new float[169];
            a[(k * 37) % 169] = 0.9f;
            for (int i = 0; i < a.length; i++) a[i] += 0.1f / 169;
            m.add(a);
        }
        return m;
    }

    static Caption caption(String text, double score, boolean attention) {
        List<String> tokens = List.of(text.split(" "));
        Caption alt = new Caption("a dog", score - 1, List.of("a", "dog"), List.of(), List.of());
        Caption first = new Caption(text, score, tokens, List.of(), attention ? maps(tokens.size() + 1) : List.of());
        return new Caption(text, score, tokens, List.of(first, alt), first.attention());
    }

    @Test
    void galleryEscapesTextAndWritesThumbnailsAndHeatmaps(@TempDir Path tmp) throws IOException {
        Path img = writeImage(Files.createDirectories(tmp.resolve("in")).resolve("a<b>&\"c'.png"));
        HtmlReport r = new HtmlReport(tmp.resolve("report"), "test <report>", false);
        r.add("a<b>&\"c'.png", img, caption("a red and blue wall", -4.25, true));
        r.addError("broken<script>.jpg", "not an image: <script>alert(1)</script>");
        r.finish();
        String html = Files.readString(r.index(), StandardCharsets.UTF_8);
        assertTrue(html.contains("a&lt;b&gt;&amp;&quot;c'.png"), "file name escaped");
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "error escaped");
        assertFalse(html.contains("<script>alert"), "no raw markup from inputs");
        assertTrue(html.contains("test &lt;report&gt;"));
        assertTrue(html.contains("a red and blue wall") && html.contains("-4.250") && html.contains("<ol class=\"nbest\">"));
        assertTrue(html.contains("1 failed"));
        // thumbnail + one heatmap per word and the end token
        assertTrue(Files.size(tmp.resolve("report/img/1.jpg")) > 0);
        for (int k = 0; k <= 5; k++) assertTrue(Files.exists(tmp.resolve("report/img/1-" + k + ".jpg")), "heatmap " + k);
        assertFalse(Files.exists(tmp.resolve("report/img/1-6.jpg")));
        BufferedImage heat = ImageIO.read(tmp.resolve("report/img/1-0.jpg").toFile());
        assertEquals(HtmlReport.HEAT, Math.max(heat.getWidth(), heat.getHeight()));

        IOException again = assertThrows(IOException.class, () -> new HtmlReport(tmp.resolve("report"), "x", false));
        assertTrue(again.getMessage().contains("--overwrite"));
        new HtmlReport(tmp.resolve("report"), "x", true); // allowed with overwrite
    }

    /** A white 130 x 130 image: 10 pixels per cell of a 13 x 13 grid. */
    static BufferedImage white130() {
        BufferedImage white = new BufferedImage(130, 130, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = white.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 130, 130);
        g.dispose();
        return white;
    }

    @Test
    void heatmapIsBrightWhereTheModelLooked() {
        BufferedImage white = white130();
        float[] a = new float[169];
        a[0] = 1;                                   // top-left cell
        BufferedImage h = AttentionOverlay.render(white, a);
        int topLeft = h.getRGB(3, 3) & 255, bottomRight = h.getRGB(126, 126) & 255;
        assertTrue(topLeft > 240, "attended cell stays bright: " + topLeft);
        assertTrue(bottomRight < 60, "unattended cells are dimmed: " + bottomRight);
        assertThrows(IllegalArgumentException.class, () -> AttentionOverlay.render(white, new float[10]));
    }

    /** Hard attention: each word's heatmap outlines the cell the model read (its largest weight) and says which. */
    @Test
    void readCellIsOutlinedForHardAttention(@TempDir Path tmp) throws IOException {
        BufferedImage white = white130();
        float[] a = new float[169];
        java.util.Arrays.fill(a, 1f / 169);
        BufferedImage h = AttentionOverlay.render(white, a, 2 * 13 + 3);   // row 2, column 3: pixels x 30-39, y 20-29
        for (int[] p : new int[][] {{30, 25}, {39, 25}, {35, 20}, {35, 29}}) {
            assertEquals(AttentionOverlay.MARK, h.getRGB(p[0], p[1]) & 0xFFFFFF, "outline at " + p[0] + "," + p[1]);
        }
        for (int[] p : new int[][] {{35, 25}, {29, 25}, {40, 25}, {35, 19}, {35, 30}}) {
            assertNotEquals(AttentionOverlay.MARK, h.getRGB(p[0], p[1]) & 0xFFFFFF, "no outline at " + p[0] + "," + p[1]);
        }
        assertEquals(h.getRGB(35, 25), AttentionOverlay.render(white, a).getRGB(35, 25), "inside the cell the heatmap is unchanged");
        assertThrows(IllegalArgumentException.class, () -> AttentionOverlay.render(white, a, 169));

        Path img = writeImage(Files.createDirectories(tmp.resolve("in")).resolve("wall.png"));
        HtmlReport hard = new HtmlReport(tmp.resolve("hard"), "hard", false, true);
        hard.add("wall.png", img, caption("a red wall", -3, true));
        hard.finish();
        String html = Files.readString(hard.index(), StandardCharsets.UTF_8);
        for (int k = 0; k <= 3; k++) {
            int cell = (k * 37) % 169;                                       // where maps() puts each word's weight
            assertTrue(html.contains("data-read-cell=\"" + cell + "\""), "word " + k + " names cell " + cell);
            assertTrue(html.contains("(read cell row " + (cell / 13 + 1) + ", column " + (cell % 13 + 1) + ")"), html);
        }
        HtmlReport soft = new HtmlReport(tmp.resolve("soft"), "soft", false);
        soft.add("wall.png", img, caption("a red wall", -3, true));
        soft.finish();
        assertFalse(Files.readString(soft.index(), StandardCharsets.UTF_8).contains("data-read-cell"), "soft attention reads no single cell");
    }

    @Test
    void pagesLinkEachOther(@TempDir Path tmp) throws IOException {
        HtmlReport r = new HtmlReport(tmp, "paged", false);
        int n = 2 * HtmlReport.PER_PAGE + 7;
        for (int i = 0; i < n; i++) r.addError("img" + i + ".jpg", "unreadable");
        r.finish();
        String index = Files.readString(tmp.resolve("index.html")), p2 = Files.readString(tmp.resolve("page-0002.html")),
                p3 = Files.readString(tmp.resolve("page-0003.html"));
        assertFalse(Files.exists(tmp.resolve("page-0004.html")));
        assertTrue(index.contains(n + " images") && index.contains("href=\"page-0003.html\""));
        assertTrue(p2.contains("href=\"index.html\"") && p2.contains("href=\"page-0003.html\""));
        assertTrue(p3.contains("href=\"page-0002.html\"") && !p3.contains("next &rarr;"));
        assertTrue(p3.contains("img206.jpg") && !p3.contains("img199.jpg"));
        // exactly a full last page: no link to a page that does not exist
        Path exact = Files.createDirectories(tmp.resolve("exact"));
        HtmlReport e = new HtmlReport(exact, "exact", false);
        for (int i = 0; i < 2 * HtmlReport.PER_PAGE; i++) e.addError("i" + i, "x");
        e.finish();
        assertFalse(Files.readString(exact.resolve("page-0002.html")).contains("next &rarr;"));
    }

    /** The report in a real browser: every image decodes, the text shows escaped, the page renders. */
    @Test
    void rendersInHeadlessChromium(@TempDir Path tmp) throws Exception {
        Path chromium = Browser.require();
        Path img = writeImage(Files.createDirectories(tmp.resolve("in")).resolve("<em>bold.png"));
        HtmlReport r = new HtmlReport(tmp.resolve("report"), "browser check", false);
        r.add("<em>bold.png", img, caption("a red and blue wall", -3.5, true));
        r.addError("bad.jpg", "truncated");
        r.finish();
        String dom = Browser.dumpDom(chromium, r.index(), tmp.resolve("profile"));
        Matcher loaded = Pattern.compile("data-images-loaded=\"(\\d+)\"").matcher(dom),
                broken = Pattern.compile("data-images-broken=\"(\\d+)\"").matcher(dom);
        assertTrue(loaded.find() && broken.find(), "the page's load check ran:\n" + dom.substring(0, Math.min(600, dom.length())));
        assertEquals(1 + 6, Integer.parseInt(loaded.group(1)), "thumbnail and 6 heatmaps decoded by the browser");
        assertEquals(0, Integer.parseInt(broken.group(1)));
        assertTrue(dom.contains("&lt;em&gt;bold.png"), "file name shown as text");
        assertFalse(dom.contains("<em>"), "file name not parsed as markup");

        Path png = Browser.screenshot(chromium, r.index(), tmp.resolve("shot.png"), tmp.resolve("profile2"));
        BufferedImage shot = ImageIO.read(png.toFile());
        int red = 0, blue = 0;
        for (int y = 0; y < shot.getHeight(); y += 2) {
            for (int x = 0; x < shot.getWidth(); x += 2) {
                int p = shot.getRGB(x, y), rr = (p >> 16) & 255, gg = (p >> 8) & 255, bb = p & 255;
                if (rr > 150 && gg < 90 && bb < 90) red++;
                if (bb > 150 && rr < 90 && gg < 110) blue++;
            }
        }
        assertTrue(red > 500 && blue > 500, "the thumbnail is painted on screen (red " + red + ", blue " + blue + " samples)");
    }
}
