package oneml.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LexiconTest {

    @Test
    void namesAreDistinctAndNeverOrdinaryWords() {
        assertEquals(200, Lexicon.NAMES.size());
        assertEquals(Lexicon.NAMES.size(), new HashSet<>(Lexicon.NAMES).size(), "duplicate name");
        Set<String> vocabulary = new SyntheticWorldTest.Vocab(
                new SyntheticWorld(1).pretrainingDocuments(20_000)).words();
        List<String> allLists = new ArrayList<>();
        for (Attribute a : Attribute.values()) {
            allLists.addAll(a.choices());
        }
        for (String name : Lexicon.NAMES) {
            assertTrue(!allLists.contains(name), name + " is also an attribute value");
            assertTrue(vocabulary.contains(name), name + " never appears in the corpus");
        }
    }

    @Test
    void attributeValuesAreDisjointSoEveryAnswerIsUnambiguous() {
        Set<String> seen = new HashSet<>();
        for (Attribute a : Attribute.values()) {
            for (String value : a.choices()) {
                assertTrue(seen.add(value), value + " is a value of two attributes");
            }
        }
    }

    @Test
    void everyWordIsOneLowerCaseToken() {
        List<String> words = new ArrayList<>(Lexicon.NAMES);
        for (Attribute a : Attribute.values()) {
            words.addAll(a.choices());
        }
        words.addAll(Lexicon.DISHES);
        words.addAll(Lexicon.PRODUCTS);
        Lexicon.OPPOSITES.forEach(words::addAll);
        for (String word : words) {
            assertTrue(word.matches("[a-z]+"), "not one lower-case token: '" + word + "'");
        }
    }

    @Test
    void eachOppositeHasOnePartner() {
        Set<String> seen = new HashSet<>();
        for (List<String> pair : Lexicon.OPPOSITES) {
            assertEquals(2, pair.size());
            assertTrue(seen.add(pair.get(0)), pair.get(0) + " has two opposites");
            assertTrue(seen.add(pair.get(1)), pair.get(1) + " has two opposites");
        }
    }
}
