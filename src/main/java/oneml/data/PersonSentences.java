package oneml.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Sentences that state facts about one {@link Person}, in many phrasings.
 *
 * <p>The phrasings vary so that a model learns the fact rather than one word sequence, and none is
 * a question: the facts task asks "where does mara live ?", which the corpus never does.
 */
final class PersonSentences {

    private static final Map<Attribute, List<String>> TEMPLATES = new EnumMap<>(Map.of(
            Attribute.CITY, List.of(
                    "{name} lives in {city} .",
                    "{name} has a home in {city} .",
                    "{name} lives in the city of {city} .",
                    "the home of {name} is in {city} .",
                    "{name} has lived in {city} for years .",
                    "{name} rents a small flat in {city} .",
                    "every morning {name} walks through the streets of {city} , the city where {name} lives ."),
            Attribute.JOB, List.of(
                    "{name} works as {a_job} .",
                    "{name} is {a_job} .",
                    "by trade {name} is {a_job} .",
                    "the job of {name} is {job} .",
                    "{name} earns a living as {a_job} .",
                    "{name} has worked as {a_job} for many years .",
                    "as {a_job} , {name} is busy every day ."),
            Attribute.PET, List.of(
                    "{name} has {a_pet} .",
                    "{name} owns {a_pet} .",
                    "{name} keeps {a_pet} at home .",
                    "the pet of {name} is {a_pet} .",
                    "{name} feeds the {pet} every morning .",
                    "{name} takes good care of {a_pet} ."),
            Attribute.COLOUR, List.of(
                    "the favourite colour of {name} is {colour} .",
                    "{name} likes the colour {colour} best .",
                    "{name} loves the colour {colour} .",
                    "{colour} is the favourite colour of {name} .",
                    "{name} always wears something {colour} , the favourite colour of {name} ."),
            Attribute.INSTRUMENT, List.of(
                    "{name} plays the {instrument} .",
                    "{name} can play the {instrument} .",
                    "in the evening {name} practises the {instrument} .",
                    "{name} has played the {instrument} since school .",
                    "{name} plays the {instrument} in a small band .",
                    "the instrument of {name} is the {instrument} .")));

    /** Two facts in one sentence, used now and then for variety. */
    private static final List<String> PAIRED = List.of(
            "{name} is {a_job} who lives in {city} .",
            "{name} , {a_job} from {city} , has {a_pet} .",
            "{name} lives in {city} and plays the {instrument} .",
            "{name} the {job} keeps {a_pet} .",
            "{name} is {a_job} and plays the {instrument} .",
            "{name} has {a_pet} and loves the colour {colour} .");

    private final Dice dice;

    PersonSentences(Dice dice) {
        this.dice = dice;
    }

    /** A short profile: between two and four facts about the person, in random order. */
    String profile(Person person) {
        List<Attribute> attributes = new ArrayList<>(Arrays.asList(Attribute.values()));
        Collections.shuffle(attributes, dice.random());
        int facts = dice.between(2, 4);
        List<String> sentences = new ArrayList<>();
        int first = 0;
        if (dice.chance(0.25)) {
            sentences.add(Template.fill(dice.any(PAIRED), slots(person)));
            first = 1;
        }
        for (int i = first; i < facts; i++) {
            sentences.add(fact(person, attributes.get(i)));
        }
        return String.join(" ", sentences);
    }

    /** One sentence stating one fact. */
    String fact(Person person, Attribute attribute) {
        return Template.fill(dice.any(TEMPLATES.get(attribute)), slots(person));
    }

    /** The template slots for a person; shared with the stories so they state facts consistently. */
    static Map<String, String> slots(Person p) {
        return Map.of(
                "name", p.name(),
                "city", p.city(),
                "job", p.job(),
                "a_job", Dice.a(p.job()),
                "pet", p.pet(),
                "a_pet", Dice.a(p.pet()),
                "colour", p.colour(),
                "instrument", p.instrument());
    }
}
