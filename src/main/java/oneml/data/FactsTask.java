package oneml.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Questions about the people of the world, scored by exact match:
 * "question : where does mara live ? answer :" → "oslo".
 *
 * <p>The split is by fact: each (person, attribute) pair lands in exactly one split, so a test
 * question asks for a fact the corpus states but that training never showed in question form.
 * Fine-tuning teaches the format; answering the test needs knowledge from pretraining. Each split
 * holds the same share of every attribute.
 */
final class FactsTask {

    static final String NAME = "facts";
    /** Per attribute; five attributes give 200 validation and 200 test questions. */
    static final int VALIDATION_PER_ATTRIBUTE = 40;
    static final int TEST_PER_ATTRIBUTE = 40;

    private static final Map<Attribute, String> QUESTIONS = new EnumMap<>(Map.of(
            Attribute.CITY, "where does {name} live ?",
            Attribute.JOB, "what is the job of {name} ?",
            Attribute.PET, "what pet does {name} have ?",
            Attribute.COLOUR, "what is the favourite colour of {name} ?",
            Attribute.INSTRUMENT, "which instrument does {name} play ?"));

    private FactsTask() {}

    static Example example(Person person, Attribute attribute) {
        String question = Template.fill(QUESTIONS.get(attribute), Map.of("name", person.name()));
        return new Example("question : " + question + " answer :", person.get(attribute));
    }

    static GeneratedTask generate(SyntheticWorld world) {
        Dice dice = new Dice(Dice.derive(world.seed(), SyntheticWorld.FACTS_STREAM));
        List<Example> train = new ArrayList<>();
        List<Example> validation = new ArrayList<>();
        List<Example> test = new ArrayList<>();
        for (Attribute attribute : Attribute.values()) {
            List<Person> people = new ArrayList<>(world.people());
            Collections.shuffle(people, dice.random());
            for (int i = 0; i < people.size(); i++) {
                Example example = example(people.get(i), attribute);
                if (i < TEST_PER_ATTRIBUTE) {
                    test.add(example);
                } else if (i < TEST_PER_ATTRIBUTE + VALIDATION_PER_ATTRIBUTE) {
                    validation.add(example);
                } else {
                    train.add(example);
                }
            }
        }
        Collections.shuffle(train, dice.random());
        Collections.shuffle(validation, dice.random());
        Collections.shuffle(test, dice.random());
        return new GeneratedTask(NAME, train, validation, test);
    }
}
