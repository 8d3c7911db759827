package oneml.kernel;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry;
import org.dflib.jjava.jupyter.kernel.util.PathsHandler;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The kernel's magics, as IJava users know them:
 * <ul>
 *   <li>{@code %classpath} lists the class path; {@code %classpath PATH...} adds folders or jars (globs allowed)</li>
 *   <li>{@code %jars GLOB...} adds jar files</li>
 *   <li>{@code %maven group:artifact:version ...} resolves artifacts with their runtime dependencies and adds them</li>
 *   <li>{@code %mavenRepo ID URL} (alias {@code %addMavenRepo}) adds a repository that {@code %maven} asks first</li>
 *   <li>{@code %%loadFromPOM} resolves the {@code <dependency>} elements (and uses the {@code <repository>} elements)
 *       of a POM or POM fragment in the cell</li>
 *   <li>{@code %time CODE} / {@code %%time} time the rest of the line or the cell (CPU and wall)</li>
 *   <li>{@code %lsmagic} lists the magics</li>
 * </ul>
 * Jars added later take part in the cells that follow (and the rest of the same cell); an
 * {@link org.dflib.jjava.jupyter.Extension} they declare is installed.
 */
final class Magics {
    private Magics() {}

    static void registerAll(OnemlKernel kernel, MagicsRegistry registry) {
        MavenResolver maven = new MavenResolver();
        registry.registerLineMagic("classpath", (k, args) -> {
            if (args.isEmpty()) {
                kernel.classpath().forEach(System.out::println);
                return null;
            }
            report(kernel.addToClasspath(resolve(args, false)));
            return null;
        });
        registry.registerLineMagic("jars", (k, args) -> {
            if (args.isEmpty()) {
                throw new IllegalArgumentException("usage: %jars GLOB... (for example %jars lib/*.jar)");
            }
            report(kernel.addToClasspath(resolve(args, true)));
            return null;
        });
        registry.registerLineMagic("maven", (k, args) -> {
            if (args.isEmpty()) {
                throw new IllegalArgumentException("usage: %maven groupId:artifactId:version ...");
            }
            List<Path> jars = maven.resolve(args);
            System.out.println("resolved " + jars.size() + " jar" + (jars.size() == 1 ? "" : "s") + " for " + String.join(" ", args));
            report(kernel.addToClasspath(jars));
            return null;
        });
        registry.registerLineMagic("mavenRepo", (k, args) -> {
            addRepo(maven, args);
            return null;
        });
        registry.registerLineMagic("addMavenRepo", (k, args) -> {
            addRepo(maven, args);
            return null;
        });
        registry.registerCellMagic("loadFromPOM", (k, args, body) -> {
            Pom pom = Pom.parse(body);
            pom.repositories.forEach(r -> maven.addRepository(r[0], r[1]));
            if (pom.dependencies.isEmpty()) {
                System.out.println("no <dependency> elements to resolve");
                return null;
            }
            List<Path> jars = maven.resolve(pom.dependencies);
            System.out.println("resolved " + jars.size() + " jar" + (jars.size() == 1 ? "" : "s") + " for " + String.join(" ", pom.dependencies));
            report(kernel.addToClasspath(jars));
            return null;
        });
        registry.registerLineMagic("lsmagic", (k, args) -> {
            System.out.println("line magics: %" + String.join(" %", new TreeSet<>(registry.getLineMagicNames())));
            System.out.println("cell magics: %%" + String.join(" %%", new TreeSet<>(registry.getCellMagicNames())));
            return null;
        });
        // %time and %%time are handled before the cell reaches JShell; elsewhere in a cell they are a mistake
        registry.registerLineMagic("time", (k, args) -> {
            throw new IllegalArgumentException("%time must start the cell: %time CODE times CODE, %%time times the whole cell");
        });
        registry.registerCellMagic("time", (k, args, body) -> {
            throw new IllegalArgumentException("%%time must be the first line of the cell");
        });
    }

    private static void addRepo(MavenResolver maven, List<String> args) {
        if (args.size() != 2) {
            throw new IllegalArgumentException("usage: %mavenRepo ID URL");
        }
        maven.addRepository(args.get(0), args.get(1));
        System.out.println("repository " + args.get(0) + " (" + args.get(1) + ") is asked first by %maven");
    }

    private static List<Path> resolve(List<String> globs, boolean jarsOnly) {
        List<Path> out = new ArrayList<>();
        for (String glob : globs) {
            List<Path> found = new ArrayList<>();
            for (Path p : PathsHandler.resolveGlobs(glob)) {
                if (jarsOnly ? Files.isRegularFile(p) && p.getFileName().toString().endsWith(".jar") : Files.exists(p)) {
                    found.add(p);
                }
            }
            if (found.isEmpty()) {
                throw new IllegalArgumentException("nothing matches " + glob + (jarsOnly ? " (jar files)" : "")
                        + " (relative paths start at " + Path.of("").toAbsolutePath() + ")");
            }
            out.addAll(found);
        }
        return out;
    }

    private static void report(List<String> added) {
        if (added.isEmpty()) {
            System.out.println("already on the class path");
        } else {
            System.out.println("added to the class path: " + added.size() + (added.size() == 1 ? " entry" : " entries"));
            for (String a : added) {
                System.out.println("  " + a);
            }
        }
    }

    /** The dependencies (group:artifact[:type[:classifier]]:version) and repositories (id, url) of a POM or fragment. */
    static final class Pom {
        final List<String> dependencies = new ArrayList<>();
        final List<String[]> repositories = new ArrayList<>();

        static Pom parse(String xml) throws Exception {
            String text = xml.strip();
            if (!text.startsWith("<?xml") && !text.startsWith("<project")) {
                text = "<fragment>" + text + "</fragment>";
            }
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
            Pom pom = new Pom();
            NodeList deps = doc.getElementsByTagName("dependency");
            for (int i = 0; i < deps.getLength(); i++) {
                Element d = (Element) deps.item(i);
                if (d.getParentNode() instanceof Element parent && parent.getParentNode() instanceof Element grand
                        && grand.getTagName().equals("dependencyManagement")) {
                    continue;
                }
                String scope = child(d, "scope");
                if (scope != null && (scope.equals("test") || scope.equals("provided") || scope.equals("system"))) {
                    continue;
                }
                String g = child(d, "groupId");
                String a = child(d, "artifactId");
                String v = child(d, "version");
                if (g == null || a == null || v == null) {
                    throw new IllegalArgumentException("a <dependency> needs groupId, artifactId and version (no parent POM here)");
                }
                String type = child(d, "type");
                String classifier = child(d, "classifier");
                pom.dependencies.add(g + ":" + a + (classifier != null ? ":" + (type == null ? "jar" : type) + ":" + classifier
                        : type != null ? ":" + type : "") + ":" + v);
            }
            NodeList repos = doc.getElementsByTagName("repository");
            for (int i = 0; i < repos.getLength(); i++) {
                Element r = (Element) repos.item(i);
                String id = child(r, "id");
                String url = child(r, "url");
                if (id != null && url != null) {
                    pom.repositories.add(new String[] {id, url});
                }
            }
            return pom;
        }

        private static String child(Element e, String name) {
            NodeList list = e.getElementsByTagName(name);
            for (int i = 0; i < list.getLength(); i++) {
                if (list.item(i).getParentNode() == e) {
                    String t = list.item(i).getTextContent();
                    return t == null || t.isBlank() ? null : t.strip();
                }
            }
            return null;
        }
    }
}
