package oneml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TasksTest {

    private static final SyntheticWorld WORLD = new SyntheticWorld(SyntheticWorld.DEFAULT_SEED);
    private static final List<GeneratedTask> TASKS = List.of(
            SentimentTask.generate(WORLD), FactsTask.generate(WORLD), TopicTask.generate(WORLD));

    @Test
    void sameSeedSameTasks() {
        SyntheticWorld again = new SyntheticWorld(SyntheticWorld.DEFAULT_SEED);
        assertEquals(TASKS.get(0), SentimentTask.generate(again));
        assertEquals(TASKS.get(1), FactsTask.generate(again));
        assertEquals(TASKS.get(2), TopicTask.generate(again));
    }

    @Test
    void splitSizes() {
        for (GeneratedTask task : TASKS) {
            assertEquals(200, task.validation().size(), task.name());
            assertEquals(200, task.test().size(), task.name());
        }
        assertEquals(1600, TASKS.get(0).train().size());
        assertEquals(600, TASKS.get(1).train().size());
        assertEquals(1600, TASKS.get(2).train().size());
    }

    @Test
    void noPromptIsInTwoSplitsOrTwiceInOne() {
        for (GeneratedTask task : TASKS) {
            Set<String> seen = new HashSet<>();
            for (Example e : all(task)) {
                assertTrue(seen.add(e.prompt()), task.name() + " repeats: " + e.prompt());
            }
        }
    }

    @Test
    void promptsEndWithColonAndResponsesAreOneWord() {
        for (GeneratedTask task : TASKS) {
            for (Example e : all(task)) {
                assertTrue(e.prompt().endsWith(" :"), e.prompt());
                assertTrue(e.response().matches("[a-z]+"), e.response());
            }
        }
    }

    @Test
    void classificationLabelsAreBalancedInEverySplit() {
        assertBalanced(TASKS.get(0), Set.of("positive", "negative"));
        assertBalanced(TASKS.get(2), Set.of("food", "travel", "work", "pets"));
    }

    @Test
    void factsAnswersAreTheWorldsFactsAndEachFactIsAskedOnce() {
        GeneratedTask facts = TASKS.get(1);
        Set<String> asked = new HashSet<>();
        for (Person p : WORLD.people()) {
            for (Attribute a : Attribute.values()) {
                Example e = FactsTask.example(p, a);
                assertEquals(p.get(a), e.response());
                asked.add(e.prompt());
            }
        }
        List<Example> all = all(facts);
        assertEquals(asked.size(), all.size());
        for (Example e : all) {
            assertTrue(asked.contains(e.prompt()), e.prompt());
        }
    }

    @Test
    void factsSplitsHoldEachAttributeEqually() {
        GeneratedTask facts = TASKS.get(1);
        for (List<Example> split : List.of(facts.train(), facts.validation(), facts.test())) {
            Map<Attribute, Integer> byAttribute = new HashMap<>();
            for (Example e : split) {
                for (Attribute a : Attribute.values()) {
                    if (a.choices().contains(e.response())) {
                        byAttribute.merge(a, 1, Integer::sum);
                    }
                }
            }
            assertEquals(Attribute.values().length, byAttribute.size(), byAttribute.toString());
            assertEquals(1, new HashSet<>(byAttribute.values()).size(), byAttribute.toString());
        }
    }

    /** Every word a task uses also appears in the corpus, so its embedding is trained. */
    @Test
    void everyTaskWordIsPretrained() {
        Set<String> corpus = new SyntheticWorldTest.Vocab(
                WORLD.pretrainingDocuments(BuildDatasets.DEFAULT_CORPUS_DOCS)).words();
        for (GeneratedTask task : TASKS) {
            for (Example e : all(task)) {
                for (String word : (e.prompt() + " " + e.response()).split(" ")) {
                    assertTrue(corpus.contains(word), "'" + word + "' from " + task.name() + " is not in the corpus");
                }
            }
        }
    }

    @Test
    void testReviewsAreNotInTheTrainingSetEvenWithoutTheirLabel() {
        GeneratedTask sentiment = TASKS.get(0);
        Set<String> train = new HashSet<>();
        sentiment.train().forEach(e -> train.add(e.prompt()));
        for (Example e : sentiment.test()) {
            assertFalse(train.contains(e.prompt()), e.prompt());
        }
    }

    private static void assertBalanced(GeneratedTask task, Set<String> labels) {
        for (List<Example> split : List.of(task.train(), task.validation(), task.test())) {
            Map<String, Integer> counts = new HashMap<>();
            split.forEach(e -> counts.merge(e.response(), 1, Integer::sum));
            assertEquals(labels, counts.keySet(), task.name());
            assertEquals(1, new HashSet<>(counts.values()).size(), task.name() + " " + counts);
        }
    }

    private static List<Example> all(GeneratedTask task) {
        List<Example> all = new ArrayList<>(task.train());
        all.addAll(task.validation());
        all.addAll(task.test());
        return all;
    }
}
