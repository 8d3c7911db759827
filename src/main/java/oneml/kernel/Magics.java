package oneml.kernel;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry;
import org.dflib.jjava.jupyter.kernel.util.PathsHandler;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

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
            report(kernel.addToClasspath(resolve(globs("classpath", args), false)));
            return null;
        });
        registry.registerLineMagic("jars", (k, args) -> {
            report(kernel.addToClasspath(resolve(globs("jars", args), true)));
            return null;
        });
        registry.registerLineMagic("maven", (k, args) -> {
            List<Path> jars = maven.resolve(coordinates(args));
            System.out.println("resolved " + jars.size() + " jar" + (jars.size() == 1 ? "" : "s") + " for " + String.join(" ", args));
            report(kernel.addToClasspath(jars));
            return null;
        });
        // argument errors are thrown within two calls of the magic, where the kernel shows them as a message, not a stack
        registry.registerLineMagic("mavenRepo", (k, args) -> {
            addRepo(maven, repository(args));
            return null;
        });
        registry.registerLineMagic("addMavenRepo", (k, args) -> {
            addRepo(maven, repository(args));
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

    /**
     * Checks a magic's arguments without acting on them (no class path change, no file listing, no network):
     * what the magic would do is refused here with a message naming the magic when the arguments are wrong.
     * The input fuzz tests call this; each magic that takes arguments is one line.
     */
    static Object parseArguments(String magic, List<String> args, String body) {
        return switch (magic) {
            case "maven" -> coordinates(args);
            case "mavenRepo", "addMavenRepo" -> repository(args);
            case "jars", "classpath" -> globs(magic, args);
            case "loadFromPOM" -> Pom.parse(body);
            default -> throw new IllegalArgumentException("%" + magic + " is not a magic that takes arguments");
        };
    }

    /** Maven parts: letters, digits and . _ - (versions also [ ] ( ) , + for ranges); never a path. */
    private static final Pattern COORDINATE_PART = Pattern.compile("[A-Za-z0-9_.\\-]+");
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9_.\\-\\[\\](),+]+");

    /** %maven's coordinates, each groupId:artifactId[:extension[:classifier]]:version, checked before any resolving. */
    static List<String> coordinates(List<String> args) {
        if (args.isEmpty()) {
            throw new IllegalArgumentException("usage: %maven groupId:artifactId:version ... (for example %maven org.knowm.xchart:xchart:3.8.8)");
        }
        List<String> out = new ArrayList<>();
        for (String arg : args) {
            String c = arg.trim();
            String[] parts = c.split(":", -1);
            boolean ok = parts.length >= 3 && parts.length <= 5 && VERSION.matcher(parts[parts.length - 1]).matches();
            for (int i = 0; ok && i < parts.length - 1; i++) {
                ok = COORDINATE_PART.matcher(parts[i]).matches() && !parts[i].chars().allMatch(ch -> ch == '.');
            }
            if (!ok) {
                throw new IllegalArgumentException("%maven: '" + shorten(c) + "' is not a Maven coordinate; write groupId:artifactId:version"
                        + " (or groupId:artifactId:extension[:classifier]:version), for example org.knowm.xchart:xchart:3.8.8");
            }
            out.add(c);
        }
        return out;
    }

    /** %mavenRepo's ID and URL (http, https or file), checked before the repository is added. */
    static String[] repository(List<String> args) {
        if (args.size() != 2) {
            throw new IllegalArgumentException("usage: %mavenRepo ID URL (for example %mavenRepo mine https://repo.example.com/maven2)");
        }
        String id = args.get(0);
        String url = args.get(1);
        if (!COORDINATE_PART.matcher(id).matches()) {
            throw new IllegalArgumentException("%mavenRepo: the repository ID '" + shorten(id) + "' may only hold letters, digits and . _ -");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            uri = null;
        }
        String scheme = uri == null || uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        boolean ok = uri != null && (scheme.equals("file") || (scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null);
        if (!ok) {
            throw new IllegalArgumentException("%mavenRepo: '" + shorten(url) + "' is not a repository URL; give an http, https or file URL"
                    + " such as https://repo.example.com/maven2");
        }
        return new String[] {id, url};
    }

    /** %jars / %classpath globs, checked as glob patterns and paths before the file system is listed. */
    static List<String> globs(String magic, List<String> args) {
        if (args.isEmpty() && magic.equals("jars")) {
            throw new IllegalArgumentException("usage: %jars GLOB... (for example %jars lib/*.jar)");
        }
        for (String glob : args) {
            try {
                FileSystems.getDefault().getPathMatcher("glob:" + glob);
                Path.of(glob);
            } catch (PatternSyntaxException | InvalidPathException e) {
                throw new IllegalArgumentException("%" + magic + ": '" + shorten(glob) + "' is not a valid path or glob"
                        + " (* and ? match within a folder, ** across folders, {a,b} either, [abc] one of)");
            }
        }
        return args;
    }

    private static String shorten(String s) {
        String clean = s.replaceAll("\\p{Cntrl}", "?");
        return clean.length() <= 80 ? clean : clean.substring(0, 77) + "...";
    }

    private static void addRepo(MavenResolver maven, String[] repo) {
        maven.addRepository(repo[0], repo[1]);
        System.out.println("repository " + repo[0] + " (" + repo[1] + ") is asked first by %maven");
    }

    private static List<Path> resolve(List<String> globs, boolean jarsOnly) {
        List<Path> out = new ArrayList<>();
        for (String glob : globs) {
            List<Path> found = new ArrayList<>();
            List<Path> matches;
            try {
                matches = PathsHandler.resolveGlobs(glob);
            } catch (RuntimeException e) { // a folder that cannot be listed, a path the file system refuses
                throw new IllegalArgumentException("cannot list " + shorten(glob) + " (" + shorten(String.valueOf(e.getMessage())) + ")");
            }
            for (Path p : matches) {
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
        private static final DocumentBuilderFactory XML = secureFactory();
        final List<String> dependencies = new ArrayList<>();
        final List<String[]> repositories = new ArrayList<>();

        static Pom parse(String xml) {
            try {
                return parseXml(xml);
            } catch (IllegalArgumentException e) { // thrown again here, near the magic, so the kernel shows only its message
                throw new IllegalArgumentException(e.getMessage());
            } catch (SAXParseException e) {
                throw new IllegalArgumentException("%%loadFromPOM: the cell is not well-formed XML at line " + e.getLineNumber()
                        + ", column " + e.getColumnNumber() + " (" + saxProblem(e) + ")");
            } catch (SAXException | IOException | ParserConfigurationException e) {
                throw new IllegalArgumentException("%%loadFromPOM: the cell is not a POM or POM fragment (" + saxProblem(e) + ")");
            }
        }

        /** The parser's sentence without its feature URLs; a DOCTYPE is refused on purpose (no external entities). */
        private static String saxProblem(Exception e) {
            String m = String.valueOf(e.getMessage());
            return m.contains("DOCTYPE") ? "a DOCTYPE is not allowed here" : shorten(m);
        }

        private static Pom parseXml(String xml) throws SAXException, IOException, ParserConfigurationException {
            String text = xml == null ? "" : xml.strip();
            if (!text.startsWith("<?xml") && !text.startsWith("<project")) {
                text = "<fragment>" + text + "</fragment>";
            }
            javax.xml.parsers.DocumentBuilder builder;
            synchronized (XML) { // a factory is not thread-safe; finding one (a service lookup) costs more than a parse
                builder = XML.newDocumentBuilder();
            }
            builder.setErrorHandler(new org.xml.sax.helpers.DefaultHandler()); // fails on fatal errors without printing them
            Document doc = builder.parse(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
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
                    throw new IllegalArgumentException("%%loadFromPOM: a <dependency> needs groupId, artifactId and version (no parent POM here)");
                }
                String type = child(d, "type");
                String classifier = child(d, "classifier");
                String coordinate = g + ":" + a + (classifier != null ? ":" + (type == null ? "jar" : type) + ":" + classifier
                        : type != null ? ":" + type : "") + ":" + v;
                try {
                    coordinates(List.of(coordinate));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("%%loadFromPOM: the <dependency> " + shorten(coordinate) + " is not a Maven coordinate"
                            + " (groupId, artifactId, type and classifier hold letters, digits and . _ -)");
                }
                pom.dependencies.add(coordinate);
            }
            NodeList repos = doc.getElementsByTagName("repository");
            for (int i = 0; i < repos.getLength(); i++) {
                Element r = (Element) repos.item(i);
                String id = child(r, "id");
                String url = child(r, "url");
                if (id != null && url != null) {
                    try {
                        pom.repositories.add(repository(List.of(id, url)));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("%%loadFromPOM: the <repository> " + shorten(id) + " needs an ID of letters, digits"
                                + " and . _ - and an http, https or file URL, not " + shorten(url));
                    }
                }
            }
            return pom;
        }

        /** No DOCTYPE, no external entities: a cell cannot make the parser read files or URLs. */
        private static DocumentBuilderFactory secureFactory() {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            try {
                f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
                f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            } catch (ParserConfigurationException e) {
                throw new IllegalStateException("the XML parser cannot be made safe for %%loadFromPOM", e);
            }
            f.setExpandEntityReferences(false);
            return f;
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
