package oneml.kernel;

import eu.maveniverse.maven.mima.context.Context;
import eu.maveniverse.maven.mima.context.ContextOverrides;
import eu.maveniverse.maven.mima.context.Runtimes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.collection.CollectRequest;
import org.eclipse.aether.graph.Dependency;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.resolution.ArtifactResult;
import org.eclipse.aether.resolution.DependencyRequest;
import org.eclipse.aether.resolution.DependencyResolutionException;
import org.eclipse.aether.resolution.DependencyResult;
import org.eclipse.aether.util.artifact.JavaScopes;
import org.eclipse.aether.util.filter.DependencyFilterUtils;

/**
 * Resolves Maven coordinates with their runtime dependencies, as Maven itself does: the real resolver (Maven
 * Resolver through MIMA's standalone runtime), the user's {@code ~/.m2/settings.xml} (mirrors, proxies,
 * credentials) and local repository, Maven Central plus any repository added with {@code %mavenRepo}, which
 * are asked first. {@code -Dmaven.repo.local=DIR} picks another local repository; {@code -Doneml.maven.offline=true}
 * resolves from the local repository only; {@code -Doneml.maven.settings=false} ignores settings.xml.
 */
final class MavenResolver {
    private final List<RemoteRepository> repositories = new ArrayList<>();

    synchronized void addRepository(String id, String url) {
        repositories.removeIf(r -> r.getId().equals(id));
        repositories.add(new RemoteRepository.Builder(id, "default", url).build());
    }

    synchronized List<RemoteRepository> repositories() {
        return List.copyOf(repositories);
    }

    /** The jars of {@code coordinates} (groupId:artifactId[:extension[:classifier]]:version) and their runtime dependencies. */
    List<Path> resolve(List<String> coordinates) throws DependencyResolutionException {
        ContextOverrides.Builder overrides = ContextOverrides.create()
                .withUserSettings(!"false".equals(System.getProperty("oneml.maven.settings")));
        List<RemoteRepository> extra = repositories();
        if (!extra.isEmpty()) {
            overrides.repositories(extra).addRepositoriesOp(ContextOverrides.AddRepositoriesOp.PREPEND);
        }
        String local = System.getProperty("maven.repo.local");
        if (local != null && !local.isBlank()) {
            overrides.withLocalRepositoryOverride(Path.of(local));
        }
        if (Boolean.getBoolean("oneml.maven.offline")) {
            overrides.offline(true);
        }
        try (Context context = Runtimes.INSTANCE.getRuntime().create(overrides.build())) {
            CollectRequest collect = new CollectRequest();
            for (String c : coordinates) {
                collect.addDependency(new Dependency(new DefaultArtifact(c.trim()), JavaScopes.RUNTIME));
            }
            collect.setRepositories(context.remoteRepositories());
            DependencyRequest request = new DependencyRequest(collect, DependencyFilterUtils.classpathFilter(JavaScopes.RUNTIME));
            DependencyResult result = context.repositorySystem().resolveDependencies(context.repositorySystemSession(), request);
            List<Path> jars = new ArrayList<>();
            for (ArtifactResult r : result.getArtifactResults()) {
                if (r.getArtifact() != null && r.getArtifact().getFile() != null) {
                    jars.add(r.getArtifact().getFile().toPath());
                }
            }
            return jars;
        }
    }
}
