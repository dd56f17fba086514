package org.captioner.serve;

import org.captioner.Captioner;
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
class ServePageTest {
    @TempDir
    static Path dir;
    static Captioner captioner;
    static CaptionServer server;

    @BeforeAll
    static void start() throws Exception {
        captioner = ServeFixture.captioner(ServeFixture.model(dir));
        server = CaptionServer.start(captioner, ServeOptions.defaults().withPort(0));
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

    @Test
    void uploadShowsCaptionAndHeatmap() throws Exception {
        Path chromium = Browser.require();
        Path driverExe = Path.of(System.getenv().getOrDefault("CHROMEDRIVER", "/usr/bin/chromedriver"));
        Assumptions.assumeTrue(Files.isExecutable(driverExe), "skipped: no chromedriver at " + driverExe + " (install Debian's chromium-driver or set CHROMEDRIVER)");
        ChromeOptions opts = new ChromeOptions();
        opts.setBinary(chromium.toFile());
        opts.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--user-data-dir=" + Files.createDirectories(dir.resolve("profile")));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driverExe.toFile()).usingAnyFreePort().build();
        ChromeDriver driver = new ChromeDriver(service, opts);
        try {
            driver.get("http://127.0.0.1:" + server.port() + "/");
            WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(60));
            wait.until(d -> d.findElement(By.id("model")).getText().contains("attention decoder"));
            List<Path> photos = ServeFixture.photos(1);
            driver.findElement(By.id("file")).sendKeys(photos.get(0).toAbsolutePath().toString());
            WebElement card = wait.until(d -> d.findElements(By.cssSelector(".card[data-done=true]")).stream().findFirst().orElse(null));
            String caption = card.findElement(By.className("caption")).getText();
            String expected = captioner.caption(photos.get(0)).text();
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
}
