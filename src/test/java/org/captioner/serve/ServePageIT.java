package org.captioner.serve;

import org.captioner.pipeline.CaptionPipeline;
import org.captioner.testing.Browser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The serve page in headless Chromium (Debian's chromium + chromium-driver, through Selenium): a photo chosen in the
 * file input gets its caption, n-best list and a painted attention heatmap; hovering another word repaints it. A
 * screenshot is kept as target/serve-page.png.
 */
class ServePageIT {
    @TempDir
    static Path dir;
    static CaptionPipeline captioner;
    static CaptionServer server;

    @BeforeAll
    static void start() throws Exception {
        captioner = ServeFixture.captioner(ServeFixture.model(dir));
        server = ServeFixture.start(captioner, ServeOptions.defaults().withPort(0));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (captioner != null) captioner.close();
    }

    /** Sum of the heatmap canvas's alpha channel: 0 when nothing is painted. */
    static long paintedAlpha(JavascriptExecutor js, WebElement canvas) {
        return ((Number) js.executeScript("const c = arguments[0], d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                + "let s = 0; for (let i = 3; i < d.length; i += 4) s += d[i]; return s;", canvas)).longValue();
    }

    static ChromeDriver browser() throws Exception {
        Path chromium = Browser.require();
        Path driverExe = Path.of(System.getenv().getOrDefault("CHROMEDRIVER", "/usr/bin/chromedriver"));
        Assumptions.assumeTrue(Files.isExecutable(driverExe), "skipped: no chromedriver at " + driverExe + " (install Debian's chromium-driver or set CHROMEDRIVER)");
        ChromeOptions opts = new ChromeOptions();
        opts.setBinary(chromium.toFile());
        opts.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--user-data-dir=" + Files.createTempDirectory(Files.createDirectories(dir.resolve("profiles")), "chrome"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driverExe.toFile()).usingAnyFreePort().build();
        return new ChromeDriver(service, opts);
    }

    /** Opens the page and waits until it has loaded the model's description. */
    static WebDriverWait openPage(ChromeDriver driver) {
        driver.get("http://127.0.0.1:" + server.port() + "/");
        WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(120));
        wait.until(d -> d.findElement(By.id("model")).getText().contains("attention decoder"));
        return wait;
    }

    @Test
    void uploadShowsCaptionAndHeatmap() throws Exception {
        ChromeDriver driver = browser();
        try {
            WebDriverWait wait = openPage(driver);
            List<Path> photos = ServeFixture.photos(1);
            driver.findElement(By.id("file")).sendKeys(photos.get(0).toAbsolutePath().toString());
            WebElement card = wait.until(d -> d.findElements(By.cssSelector(".card[data-done=true]")).stream().findFirst().orElse(null));
            String caption = card.findElement(By.className("caption")).getText();
            String expected = captioner.caption(List.of(captioner.prepare(org.captioner.ImageInput.of(photos.get(0)))),
                    captioner.options(3, 1, null, false, 1.0, 0, 42)).get(0).text();
            assertEquals(expected, caption, "the page shows the caption the API gives");
            assertEquals(3, card.findElements(By.cssSelector(".nbest li")).size(), "n-best list of 3");
            WebElement canvas = card.findElement(By.className("heatmap"));
            JavascriptExecutor js = driver;
            assertEquals("true", canvas.getAttribute("data-painted"));
            long first = paintedAlpha(js, canvas);
            assertTrue(first > 0, "heatmap painted");
            List<WebElement> words = card.findElements(By.cssSelector(".words span"));
            assertEquals(caption.split(" ").length + 1, words.size(), "one word per token and <end>");
            new Actions(driver).moveToElement(words.get(words.size() - 1)).perform();
            wait.until(d -> words.get(words.size() - 1).getAttribute("class").contains("active"));
            assertTrue(paintedAlpha(js, canvas) > 0, "the hovered word's map is painted");
            File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
            Path keep = Path.of("target", "serve-page.png");
            Files.createDirectories(keep.getParent());
            Files.copy(shot.toPath(), keep, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            driver.quit();
        }
    }

    /**
     * Keyboard only: Tab reaches the file input (the picker a keyboard opens with Enter); six photos chosen there are
     * sent at most four at a time; each picture's alt text is its caption; the result is announced in the aria-live
     * status; Tab reaches a word, whose focus paints its heatmap.
     */
    @Test
    void keyboardOnlyUploadIsAnnouncedAndFocusShowsHeatmaps() throws Exception {
        ChromeDriver driver = browser();
        try {
            WebDriverWait wait = openPage(driver);
            JavascriptExecutor js = driver;
            // count requests in flight, to see that a large choice is sent a few at a time
            js.executeScript("window.inFlight = 0; window.maxInFlight = 0; const f = window.fetch;"
                    + "window.fetch = async (...a) => { if (String(a[0]).startsWith('v1/captions')) {"
                    + "  window.maxInFlight = Math.max(window.maxInFlight, ++window.inFlight);"
                    + "  try { return await f(...a); } finally { window.inFlight--; } } return f(...a); };");
            Actions keys = new Actions(driver);
            for (int i = 0; i < 10 && !"file".equals(js.executeScript("return document.activeElement.id")); i++) {
                keys.sendKeys(org.openqa.selenium.Keys.TAB).perform();
            }
            assertEquals("file", js.executeScript("return document.activeElement.id"), "Tab reaches the file input");
            assertEquals("choose files", driver.findElement(By.cssSelector("label[for=file]")).getText());
            for (String id : List.of("beam", "nbest", "token")) {
                assertFalse(driver.findElements(By.cssSelector("label[for=" + id + "]")).isEmpty(), "a label for #" + id);
            }
            List<Path> photos = ServeFixture.photos(6);
            String paths = String.join("\n", photos.stream().map(p -> p.toAbsolutePath().toString()).toList());
            driver.switchTo().activeElement().sendKeys(paths);       // what the picker gives once Enter opened it
            wait.until(d -> d.findElements(By.cssSelector(".card[data-done=true]")).size() == photos.size());
            long most = ((Number) js.executeScript("return window.maxInFlight")).longValue();
            assertTrue(most >= 1 && most <= 4, "at most 4 uploads at once, saw " + most);
            String status = driver.findElement(By.id("status")).getText();
            assertEquals("polite", driver.findElement(By.id("status")).getAttribute("aria-live"));
            List<WebElement> cards = driver.findElements(By.cssSelector(".card"));
            for (WebElement card : cards) {
                assertEquals(card.findElement(By.className("caption")).getText(), card.findElement(By.tagName("img")).getAttribute("alt"),
                        "the caption is the picture's alt text");
            }
            assertTrue(cards.stream().anyMatch(c -> status.endsWith(c.findElement(By.className("caption")).getText())),
                    "the last result is announced: " + status);
            // Tab on to the first card's words: focusing one paints its map
            WebElement first = cards.get(0);
            List<WebElement> words = first.findElements(By.cssSelector(".words span"));
            WebElement target = words.get(words.size() - 1);
            for (int i = 0; i < 200 && !target.equals(driver.switchTo().activeElement()); i++) {
                keys.sendKeys(org.openqa.selenium.Keys.TAB).perform();
            }
            assertEquals(target, driver.switchTo().activeElement(), "Tab reaches the words");
            assertTrue(target.getAttribute("class").contains("active"), "focus shows the word's heatmap");
            assertTrue(paintedAlpha(js, first.findElement(By.className("heatmap"))) > 0);
        } finally {
            driver.quit();
        }
    }
}
