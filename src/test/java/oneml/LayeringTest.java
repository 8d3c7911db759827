package oneml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/ARCHITECTURE.md's promise that data flows one way, enforced: every package under src/main/java has a layer,
 * and a source file may name classes of its own unit or of lower layers only. What counts is every {@code oneml.}
 * name in code (imports, static imports, fully qualified names in expressions; comments and strings aside) and, within
 * a package split across layers, the simple names of its classes.
 *
 * <p>The package {@code oneml} is two units: the PEFT method configs (classes named {@code *Config}), inputs of
 * {@code oneml.peft} that users write as {@code import oneml.*;}, and the notebook API on top (Models, Peft, Train,
 * Eval, Compare). A sub-package belongs to the unit of its closest listed parent ({@code oneml.peft.lora} to
 * {@code oneml.peft}).
 */
class LayeringTest {
    static final String CONFIGS = "oneml (method configs)";
    static final String FACADE = "oneml (notebook API)";

    /** Lowest first. Units in one layer are siblings: neither may use the other. */
    static final List<List<String>> LAYERS = List.of(
            List.of("oneml.io"),
            List.of("oneml.tensor"),
            List.of("oneml.quant"),
            List.of("oneml.model", "oneml.data", CONFIGS),
            List.of("oneml.peft"),
            List.of("oneml.train"),
            List.of("oneml.compare"),
            List.of("oneml.viz"),
            List.of(FACADE),
            List.of("oneml.sweep"),
            List.of("oneml.kernel"),
            List.of("oneml.cli"),
            List.of("oneml.sweep.spark")); // Spark's own JVMs only: nothing else may name it

    private static final Pattern PACKAGE = Pattern.compile("^\\s*package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
    private static final Pattern QUALIFIED = Pattern.compile("(?<![\\w.])oneml((?:\\s*\\.\\s*(?:\\w+|\\*))+)");

    @Test
    void everyArrowPointsDown() throws IOException {
        Path root = Path.of("src/main/java");
        assertTrue(Files.isDirectory(root.resolve("oneml")), "run from the project folder: no src/main/java/oneml under "
                + Path.of("").toAbsolutePath());
        Map<String, String> sources = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                sources.put(root.relativize(f).toString().replace('\\', '/'), Files.readString(f));
            }
        }
        assertTrue(sources.size() > 50, "expected the project's sources under " + root.toAbsolutePath());
        List<String> violations = violations(sources);
        assertTrue(violations.isEmpty(), "upward arrows (docs/ARCHITECTURE.md: lower packages never import upper ones):\n  "
                + String.join("\n  ", violations));
    }

    /**
     * Spark stays out of every JVM but the sweep driver's and its executors': only {@code oneml.sweep.spark} names its
     * classes, and the core's runtime class path ({@code target/lib}, what ./oneml, the kernel and trials use) has none
     * of its jars, which {@code package} puts in {@code target/spark-lib} instead.
     */
    @Test
    void sparkIsNamedOnlyByTheSparkBackend() throws IOException {
        Path root = Path.of("src/main/java");
        List<String> naming = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String rel = root.relativize(f).toString().replace('\\', '/');
                if (!rel.startsWith("oneml/sweep/spark/") && Pattern.compile("(?m)^import\\s+(static\\s+)?org\\.apache\\.spark\\.").matcher(Files.readString(f)).find()) {
                    naming.add(rel);
                }
            }
        }
        assertEquals(List.of(), naming, "only oneml.sweep.spark may import Spark");
        Path lib = Path.of("target/lib");
        if (Files.isDirectory(lib)) {
            try (Stream<Path> jars = Files.list(lib)) {
                assertEquals(List.of(), jars.map(j -> j.getFileName().toString()).filter(n -> n.startsWith("spark-") || n.startsWith("scala-")).toList(),
                        "target/lib (the core's class path) must hold no Spark or Scala jar");
            }
        }
    }

    @Test
    void upwardReferencesAreFoundWhereverTheyHide() {
        Map<String, String> sources = new TreeMap<>();
        sources.put("oneml/quant/A.java", String.join("\n",
                "package oneml.quant;",
                "import oneml.io.AtomicFiles;                  // down: fine",
                "/** mentions oneml.train.Trainer in a comment: fine */",
                "class A {",
                "  String s = \"oneml.Models and \\\"oneml.cli.Main\\\"\"; // strings: fine",
                "  Object x = oneml.model.Kernels.decodePairs(null, null);",
                "  Object y = oneml.tensor.Kernels.decodePairs(null, null);",
                "}"));
        sources.put("oneml/train/B.java", "package oneml.train;\nimport static oneml.Models.save;\nimport oneml.data.*;\nclass B {}");
        sources.put("oneml/LoRAConfig.java", "package oneml;\nrecord LoRAConfig(int r) { Object m() { return Models.tiny(); } }");
        sources.put("oneml/Models.java", "package oneml;\nimport oneml.model.Checkpoints;\nclass Models { LoRAConfig c; }");
        sources.put("oneml/model/C.java", "package oneml.model;\nclass C { oneml.data.Example e; }");
        sources.put("oneml/unknown/D.java", "package oneml.unknown;\nclass D {}");
        assertEquals(List.of(
                "oneml/LoRAConfig.java: Models (oneml (method configs) uses oneml (notebook API), a layer above it)",
                "oneml/model/C.java: oneml.data.Example (oneml.model uses oneml.data, a sibling in its layer)",
                "oneml/quant/A.java: oneml.model.Kernels (oneml.quant uses oneml.model, a layer above it)",
                "oneml/train/B.java: oneml.Models (oneml.train uses oneml (notebook API), a layer above it)",
                "oneml/unknown/D.java: package oneml.unknown has no layer: add it to LayeringTest.LAYERS and to the picture"
                        + " in docs/ARCHITECTURE.md"), violations(sources));
    }

    /** One line per upward or sideways reference: the file, the name it uses, and which units are involved. */
    static List<String> violations(Map<String, String> sources) {
        Map<String, Integer> layerOf = new TreeMap<>();
        for (int i = 0; i < LAYERS.size(); i++) {
            for (String unit : LAYERS.get(i)) {
                layerOf.put(unit, i);
            }
        }
        // classes of a split package, by simple name, for references that need no import
        Map<String, Map<String, String>> unitOfClass = new TreeMap<>();
        for (var e : sources.entrySet()) {
            String pkg = packageOf(e.getValue());
            String cls = Path.of(e.getKey()).getFileName().toString().replaceFirst("\\.java$", "");
            unitOfClass.computeIfAbsent(pkg, p -> new TreeMap<>()).put(cls, unit(pkg, cls, layerOf));
        }
        List<String> out = new ArrayList<>();
        for (var e : sources.entrySet()) {
            String file = e.getKey();
            String pkg = packageOf(e.getValue());
            String cls = Path.of(file).getFileName().toString().replaceFirst("\\.java$", "");
            String own = unit(pkg, cls, layerOf);
            if (own == null) {
                out.add(file + ": package " + pkg + " has no layer: add it to LayeringTest.LAYERS and to the picture in"
                        + " docs/ARCHITECTURE.md");
                continue;
            }
            String code = PACKAGE.matcher(codeOnly(e.getValue())).replaceFirst("");
            List<String> names = new ArrayList<>();
            Matcher m = QUALIFIED.matcher(code);
            while (m.find()) {
                names.add(upToClass("oneml" + m.group(1).replaceAll("\\s", "")));
            }
            for (var sibling : unitOfClass.getOrDefault(pkg, Map.of()).entrySet()) {
                if (!sibling.getValue().equals(own) && Pattern.compile("(?<![\\w.])" + sibling.getKey() + "\\b").matcher(code).find()) {
                    names.add(sibling.getKey());
                }
            }
            for (String name : names) {
                String target = name.startsWith("oneml") ? unitOfName(name, layerOf) : unitOfClass.get(pkg).get(name);
                if (target == null || target.equals(own)) {
                    continue; // a package outside the layers is reported where it is declared
                }
                int from = layerOf.get(own);
                int to = layerOf.get(target);
                if (to > from) {
                    out.add(file + ": " + name + " (" + own + " uses " + target + ", a layer above it)");
                } else if (to == from) {
                    out.add(file + ": " + name + " (" + own + " uses " + target + ", a sibling in its layer)");
                }
            }
        }
        out.sort(null);
        return out.stream().distinct().toList();
    }

    /** {@code oneml.model.Kernels.decodePairs} as {@code oneml.model.Kernels}: the class a qualified name uses. */
    private static String upToClass(String name) {
        String[] parts = name.split("\\.");
        StringBuilder out = new StringBuilder(parts[0]);
        for (int i = 1; i < parts.length; i++) {
            out.append('.').append(parts[i]);
            if (parts[i].equals("*") || Character.isUpperCase(parts[i].charAt(0))) {
                break;
            }
        }
        return out.toString();
    }

    /** The unit a qualified name belongs to: its package is the segments before the first capitalised one. */
    private static String unitOfName(String name, Map<String, Integer> layerOf) {
        String[] parts = name.split("\\.");
        StringBuilder pkg = new StringBuilder(parts[0]);
        String cls = null;
        for (int i = 1; i < parts.length; i++) {
            if (parts[i].equals("*") || Character.isUpperCase(parts[i].charAt(0))) {
                cls = parts[i].equals("*") ? null : parts[i];
                break;
            }
            pkg.append('.').append(parts[i]);
        }
        return unit(pkg.toString(), cls, layerOf);
    }

    /** The closest listed unit for a package; in {@code oneml} itself the configs or the notebook API. */
    private static String unit(String pkg, String cls, Map<String, Integer> layerOf) {
        if (pkg.equals("oneml")) {
            return cls != null && cls.endsWith("Config") ? CONFIGS : FACADE;
        }
        for (String p = pkg; p.contains("."); p = p.substring(0, p.lastIndexOf('.'))) {
            if (layerOf.containsKey(p)) {
                return p;
            }
        }
        return null;
    }

    private static String packageOf(String source) {
        Matcher m = PACKAGE.matcher(codeOnly(source));
        return m.find() ? m.group(1) : "";
    }

    /** The source with comments, string and character literals (text blocks too) blanked out. */
    static String codeOnly(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (s.startsWith("//", i)) {
                int end = s.indexOf('\n', i);
                i = end < 0 ? s.length() : end;
            } else if (s.startsWith("/*", i)) {
                int end = s.indexOf("*/", i + 2);
                i = end < 0 ? s.length() : end + 2;
                out.append(' ');
            } else if (s.startsWith("\"\"\"", i)) {
                int end = s.indexOf("\"\"\"", i + 3);
                while (end > 0 && s.charAt(end - 1) == '\\') {
                    end = s.indexOf("\"\"\"", end + 1);
                }
                i = end < 0 ? s.length() : end + 3;
                out.append("\"\"");
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < s.length() && s.charAt(j) != c && s.charAt(j) != '\n') {
                    j += s.charAt(j) == '\\' ? 2 : 1;
                }
                i = j + 1;
                out.append(c).append(c);
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }
}
