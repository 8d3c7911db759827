package oneml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class SyntheticWorldTest {

    private static final SyntheticWorld WORLD = new SyntheticWorld(SyntheticWorld.DEFAULT_SEED);
    private static final List<String> DOCS = WORLD.pretrainingDocuments(BuildDatasets.DEFAULT_CORPUS_DOCS);

    /** The distinct whitespace-separated words of some texts. */
    record Vocab(List<String> texts) {
        Set<String> words() {
            Set<String> words = new TreeSet<>();
            for (String text : texts) {
                words.addAll(List.of(text.split(" ")));
            }
            return words;
        }
    }

    @Test
    void sameSeedSameWorldAndDocuments() {
        SyntheticWorld again = new SyntheticWorld(SyntheticWorld.DEFAULT_SEED);
        assertEquals(WORLD.people(), again.people());
        assertEquals(DOCS.subList(0, 2000), again.pretrainingDocuments(2000));
    }

    @Test
    void otherSeedOtherWorld() {
        SyntheticWorld other = new SyntheticWorld(7);
        assertNotEquals(WORLD.people(), other.people());
        assertNotEquals(WORLD.pretrainingDocuments(100), other.pretrainingDocuments(100));
    }

    @Test
    void shorterCorpusIsAPrefixOfALongerOne() {
        assertEquals(DOCS.subList(0, 500), WORLD.pretrainingDocuments(500));
        assertEquals(DOCS.subList(0, 500), WORLD.documents().limit(500).toList());
    }

    @Test
    void attributeValuesAreDealtEvenly() {
        for (Attribute attribute : Attribute.values()) {
            Map<String, Integer> counts = new HashMap<>();
            WORLD.people().forEach(p -> counts.merge(p.get(attribute), 1, Integer::sum));
            assertEquals(attribute.choices().size(), counts.size(), attribute + " leaves a value unused");
            int min = counts.values().stream().min(Integer::compare).orElseThrow();
            int max = counts.values().stream().max(Integer::compare).orElseThrow();
            assertTrue(max - min <= 1, attribute + " is uneven: " + counts);
        }
    }

    @Test
    void documentsAreShortLowerCaseAndSpaceSeparated() {
        for (String doc : DOCS) {
            assertTrue(doc.matches("[a-z,.?:]+( [a-z,.?:]+)*"), "odd characters or spacing: " + doc);
            long sentences = doc.chars().filter(c -> c == '.' || c == '?').count();
            assertTrue(sentences >= 1 && sentences <= 4, "not one to four sentences: " + doc);
        }
        Set<String> words = new Vocab(DOCS).words();
        assertTrue(words.size() >= 400 && words.size() <= 900, "vocabulary size " + words.size());
    }

    /** In any sentence that names a person, every attribute value is that person's own. */
    @Test
    void factsAreNeverContradicted() {
        Map<String, Attribute> attributeOf = new HashMap<>();
        for (Attribute a : Attribute.values()) {
            a.choices().forEach(v -> attributeOf.put(v, a));
        }
        for (String doc : DOCS) {
            for (String sentence : doc.split(" [.?] ?")) {
                List<String> words = List.of(sentence.split(" "));
                for (Person p : WORLD.people()) {
                    if (!words.contains(p.name())) {
                        continue;
                    }
                    for (String word : words) {
                        Attribute a = attributeOf.get(word);
                        assertTrue(a == null || p.get(a).equals(word),
                                "'" + sentence + "' contradicts " + p);
                    }
                }
            }
        }
    }

    /** The shipped corpus states every fact many times, so a small model can memorise it. */
    @Test
    void everyFactIsStatedOftenInTheShippedCorpus() {
        Map<String, Map<Attribute, Integer>> mentions = new HashMap<>();
        for (String doc : DOCS) {
            for (String sentence : doc.split(" [.?] ?")) {
                List<String> words = List.of(sentence.split(" "));
                for (String word : words) {
                    if (Lexicon.NAMES.contains(word)) {
                        Person p = WORLD.person(word);
                        for (Attribute a : Attribute.values()) {
                            if (words.contains(p.get(a))) {
                                mentions.computeIfAbsent(word, k -> new EnumMap<>(Attribute.class))
                                        .merge(a, 1, Integer::sum);
                            }
                        }
                    }
                }
            }
        }
        for (Person p : WORLD.people()) {
            for (Attribute a : Attribute.values()) {
                int n = mentions.getOrDefault(p.name(), Map.of()).getOrDefault(a, 0);
                assertTrue(n >= 20, p.name() + "'s " + a + " is stated only " + n + " times");
            }
        }
    }

    @Test
    void corpusNeverUsesATaskPromptFormat() {
        for (String doc : DOCS) {
            for (String marker : List.of("question :", "answer :", "review :", "sentiment :", "text :", "topic :")) {
                assertFalse(doc.contains(marker), "'" + marker + "' in: " + doc);
            }
        }
        for (Person p : WORLD.people().subList(0, 20)) {
            String asked = "where does " + p.name() + " live";
            assertFalse(DOCS.stream().anyMatch(d -> d.contains(asked)), asked);
        }
    }

    @Test
    void personLookup() {
        Person first = WORLD.people().get(0);
        assertEquals(first, WORLD.person(first.name()));
        assertEquals("mara", first.name());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> WORLD.person("nobody"));
        assertTrue(e.getMessage().contains("nobody"));
    }
}
