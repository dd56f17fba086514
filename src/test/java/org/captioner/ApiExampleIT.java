package org.captioner;

import org.captioner.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The embedded-API example of docs/api.md, as a user would run it: Captioner installed into the local Maven
 * repository, a fresh Maven project with exactly its dependency block and program, compiled and run
 * with {@code mvn compile exec:java} on real images with the bundled model.
 */
class ApiExampleIT {
    static final Path ROOT = Path.of("").toAbsolutePath();

    /** The fenced block following an {@code <!-- api-example:NAME -->} marker in the README. */
    static String readmeBlock(String name) throws IOException {
        List<String> lines = Files.readAllLines(ROOT.resolve("docs/api.md"));
        int i = lines.indexOf("<!-- api-example:" + name + " -->");
        assertTrue(i >= 0, "docs/api.md lacks the api-example:" + name + " block");
        int open = i + 1, close = open + 1;
        assertTrue(lines.get(open).startsWith("```"));
        while (!lines.get(close).equals("```")) close++;
        return String.join("\n", lines.subList(open + 1, close)) + "\n";
    }

    @Test
    void readmeExampleCompilesAndRunsInAUsersProject(@TempDir Path tmp) throws Exception {
        Path weights = SharedData.mobilenetWeights();                    // the default model's encoder
        Path coco = SharedData.require("data/coco/val2017");
        String dependency = readmeBlock("pom"), program = readmeBlock("java");

        // 1. install this project's classes and pom as org.captioner:captioner (what `mvn install` does)
        Path jar = tmp.resolve("captioner.jar");
        jar(ROOT.resolve("target/classes"), jar);
        mvn(ROOT, "install:install-file", "-Dfile=" + jar, "-DpomFile=" + ROOT.resolve("pom.xml"));

        // 2. the user's project: the README's dependency block and program, nothing else of ours
        Path user = Files.createDirectories(tmp.resolve("user-project"));
        Files.writeString(user.resolve("pom.xml"), """
                <?xml version="1.0" encoding="UTF-8"?>
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>example</groupId>
                  <artifactId>caption-photos</artifactId>
                  <version>1.0</version>
                  <properties>
                    <maven.compiler.source>17</maven.compiler.source>
                    <maven.compiler.target>17</maven.compiler.target>
                    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
                  </properties>
                  <dependencies>
                """ + dependency + """
                  </dependencies>
                </project>
                """);
        Path src = Files.createDirectories(user.resolve("src/main/java/example"));
        Files.writeString(src.resolve("CaptionPhotos.java"), program);

        List<Path> photos;
        try (Stream<Path> s = Files.list(coco)) {
            photos = s.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(3).toList();
        }
        // the program loads the model bundled in the jar: the user's project is not beside a checkout
        String args = String.join(" ", photos.stream().map(Path::toString).toList());
        String out = mvn(user, Path.of(weights.getParent().toString()), "compile", "exec:java",
                "-Dexec.mainClass=example.CaptionPhotos", "-Dexec.args=" + args);
        // Maven's own lines and colour codes aside, stdout is the program's
        List<String> lines = out.replaceAll("\u001B\\[[0-9;]*m", "").lines().filter(l -> !l.isBlank() && !l.startsWith("[")).toList();
        // first caption with its score, two n-best lines, the attention line, then one caption per photo
        assertEquals(1 + 2 + 1 + photos.size(), lines.size(), out);
        assertTrue(lines.get(0).matches("[a-z ]+ {2}\\(log p -\\d+\\.\\d+\\)"), lines.get(0));
        assertTrue(lines.get(1).startsWith("  n-best: ") && lines.get(2).startsWith("  n-best: "), out);
        int words = lines.get(0).replaceAll(" {2}\\(log p .*", "").split(" ").length;
        assertEquals("  attention: " + (words + 1) + " maps of 49 cells", lines.get(3), "one map per word and <end>");
        assertEquals(lines.get(0).replaceAll(" {2}\\(log p .*", ""), lines.get(4), "the same photo gets the same caption");
        try (Stream<Path> copies = Files.list(user.resolve("model-cache"))) {
            assertTrue(Files.isRegularFile(copies.findFirst().orElseThrow().resolve("decoder.zip")), "the bundled model came out of the jar");
        }

        // 3. what the user's project receives: the library, not the CLI's parser, the HTTP server, Spark or CoreNLP
        mvn(user, "dependency:list", "-DincludeScope=runtime", "-DoutputFile=" + user.resolve("deps.txt"));
        String deps = Files.readString(user.resolve("deps.txt"));
        assertTrue(deps.contains("org.captioner:captioner:jar") && deps.contains("org.nd4j:nd4j-native"), deps);
        for (String absent : new String[] {"info.picocli", "io.javalin", "org.eclipse.jetty", "io.prometheus", "org.apache.spark", "stanford-corenlp"}) {
            assertFalse(deps.contains(absent), absent + " reached the user's runtime classpath:\n" + deps);
        }
    }

    private static void jar(Path classes, Path jar) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, (OutputStream) out);
                out.closeEntry();
            }
        }
    }

    private static String mvn(Path dir, String... goals) throws Exception {
        return mvn(dir, null, goals);
    }

    private static String mvn(Path dir, Path weightsDir, String... goals) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("mvn", "-B", "-q"));
        cmd.addAll(List.of(goals));
        Path err = Files.createTempFile("mvn", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(err.toFile());
        if (weightsDir != null) {
            pb.environment().put("CAPTIONER_WEIGHTS_DIR", weightsDir.toString());
            pb.environment().put("CAPTIONER_MODEL_CACHE", dir.resolve("model-cache").toString());   // not the user's home
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);  // the program's stdout
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "mvn timed out");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " in " + dir + ":\n" + out + Files.readString(err));
        Files.deleteIfExists(err);
        return out;
    }
}
