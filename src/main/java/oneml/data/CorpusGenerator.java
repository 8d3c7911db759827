package oneml.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Supplier;

/**
 * An endless, seeded stream of short pretraining documents mixing every kind of sentence.
 *
 * <p>Profiles visit people in shuffled rounds rather than at random, so after any number of
 * documents every person has been described about equally often.
 */
final class CorpusGenerator {

    // Relative frequency of each kind of document. Profiles dominate because the facts task needs
    // every fact seen many times; the rest teaches the language the tasks are written in.
    private static final double PROFILE = 40;
    private static final double REVIEW = 22;
    private static final double STORY = 20;
    private static final double DESCRIPTION = 6;
    private static final double OPPOSITES = 6;
    private static final double EVERYDAY = 6;

    private final Dice dice;
    private final List<Person> round;
    private final PersonSentences profiles;
    private final ReviewWriter reviews;
    private final StoryWriter stories;
    private final GeneralSentences general;
    private int nextInRound;

    CorpusGenerator(long seed, List<Person> people) {
        this.dice = new Dice(seed);
        this.round = new ArrayList<>(people);
        this.nextInRound = round.size();
        this.profiles = new PersonSentences(dice);
        this.reviews = new ReviewWriter(dice);
        this.stories = new StoryWriter(dice, people);
        this.general = new GeneralSentences(dice);
    }

    /** The next document: one to four sentences on one line, words separated by single spaces. */
    String next() {
        return switch (dice.weighted(PROFILE, REVIEW, STORY, DESCRIPTION, OPPOSITES, EVERYDAY)) {
            case 0 -> profiles.profile(nextPerson());
            case 1 -> reviews.review(dice.chance(0.5));
            case 2 -> stories.story(dice.any(List.of(Topic.values())));
            case 3 -> repeat(dice.between(1, 3), () -> dice.chance(0.5) ? general.worldFact() : general.description());
            case 4 -> repeat(dice.between(1, 2), general::opposite);
            default -> repeat(dice.between(1, 2), general::everyday);
        };
    }

    private Person nextPerson() {
        if (nextInRound == round.size()) {
            Collections.shuffle(round, dice.random());
            nextInRound = 0;
        }
        return round.get(nextInRound++);
    }

    private static String repeat(int times, Supplier<String> sentence) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            out.add(sentence.get());
        }
        return String.join(" ", out);
    }
}
