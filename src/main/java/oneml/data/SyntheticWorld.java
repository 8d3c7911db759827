package oneml.data;

import oneml.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A small made-up world with a closed vocabulary, and the pretraining text that describes it.
 *
 * <p>Everything is derived from the seed: the same seed gives the same people, the same facts and
 * the same documents, on any machine. Each person has one value per {@link Attribute}; values are
 * dealt out evenly (every city is home to about the same number of people) so that guessing the
 * most common answer does not score well on the facts task.
 */
public final class SyntheticWorld {

    /** The seed the shipped datasets are built from. */
    public static final long DEFAULT_SEED = 42;

    // Independent random streams, so that changing one generator never changes another's output.
    static final int PEOPLE_STREAM = 0;
    static final int CORPUS_STREAM = 1;
    static final int SENTIMENT_STREAM = 2;
    static final int FACTS_STREAM = 3;
    static final int TOPIC_STREAM = 4;

    private final long seed;
    private final List<Person> people;
    private final Map<String, Person> byName;

    public SyntheticWorld(long seed) {
        this.seed = seed;
        this.people = dealPeople(new Dice(Dice.derive(seed, PEOPLE_STREAM)));
        this.byName = people.stream().collect(Collectors.toMap(Person::name, Function.identity()));
    }

    public long seed() {
        return seed;
    }

    /** Every person, in the fixed order of their names. */
    public List<Person> people() {
        return people;
    }

    /** The person with this name; throws if there is none. */
    public Person person(String name) {
        Person p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no person called '" + name + "' in this world");
        }
        return p;
    }

    /**
     * The first {@code count} pretraining documents, one to four sentences each. A shorter list is
     * always a prefix of a longer one, so callers can ask for as many as their token budget allows.
     */
    public List<String> pretrainingDocuments(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, was " + count);
        }
        CorpusGenerator generator = corpusGenerator();
        List<String> docs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            docs.add(generator.next());
        }
        return docs;
    }

    /** The same documents as {@link #pretrainingDocuments(int)}, as an endless lazy stream. */
    public Stream<String> documents() {
        CorpusGenerator generator = corpusGenerator();
        return Stream.generate(generator::next);
    }

    /**
     * Writes the first {@code count} documents to a UTF-8 file, one document per line, atomically.
     *
     * @return the number of tokens written: words and punctuation are separated by single spaces,
     *     so this is what the word-level tokenizer will produce (without special tokens)
     */
    public long writeCorpus(Path file, int count) throws IOException {
        CorpusGenerator generator = corpusGenerator();
        long[] tokens = {0};
        AtomicFiles.writeText(file, out -> {
            for (int i = 0; i < count; i++) {
                String doc = generator.next();
                tokens[0] += doc.split(" ").length;
                out.write(doc);
                out.write('\n');
            }
        });
        return tokens[0];
    }

    CorpusGenerator corpusGenerator() {
        return new CorpusGenerator(Dice.derive(seed, CORPUS_STREAM), people);
    }

    /** Each attribute's values are dealt like cards: repeated to cover everyone, then shuffled. */
    private static List<Person> dealPeople(Dice dice) {
        int n = Lexicon.NAMES.size();
        List<String> cities = deal(Attribute.CITY.choices(), n, dice);
        List<String> jobs = deal(Attribute.JOB.choices(), n, dice);
        List<String> pets = deal(Attribute.PET.choices(), n, dice);
        List<String> colours = deal(Attribute.COLOUR.choices(), n, dice);
        List<String> instruments = deal(Attribute.INSTRUMENT.choices(), n, dice);
        List<Person> people = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            people.add(new Person(Lexicon.NAMES.get(i), cities.get(i), jobs.get(i), pets.get(i),
                    colours.get(i), instruments.get(i)));
        }
        return List.copyOf(people);
    }

    private static List<String> deal(List<String> values, int n, Dice dice) {
        List<String> deck = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            deck.add(values.get(i % values.size()));
        }
        Collections.shuffle(deck, dice.random());
        return deck;
    }
}
