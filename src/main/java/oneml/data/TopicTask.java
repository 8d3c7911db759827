package oneml.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Topic classification as generation of one label word, for multi-task demos:
 * "text : a tourist booked a flight to lima . topic :" → "travel".
 *
 * <p>Four balanced labels (food, travel, work, pets); every text is distinct, so no test text is
 * a copy of a training text.
 */
final class TopicTask {

    static final String NAME = "topic";
    static final int TRAIN = 1600;
    static final int VALIDATION = 200;
    static final int TEST = 200;

    private TopicTask() {}

    static String prompt(String text) {
        return "text : " + text + " topic :";
    }

    static GeneratedTask generate(SyntheticWorld world) {
        Dice dice = new Dice(Dice.derive(world.seed(), SyntheticWorld.TOPIC_STREAM));
        StoryWriter writer = new StoryWriter(dice, world.people());
        Topic[] topics = Topic.values();
        int perTopic = (TRAIN + VALIDATION + TEST) / topics.length;
        Set<String> seen = new LinkedHashSet<>();
        List<Example> train = new ArrayList<>();
        List<Example> validation = new ArrayList<>();
        List<Example> test = new ArrayList<>();
        for (Topic topic : topics) {
            List<Example> rows = new ArrayList<>(perTopic);
            while (rows.size() < perTopic) {
                String story = writer.story(topic);
                if (seen.add(story)) {
                    rows.add(new Example(prompt(story), topic.label()));
                }
            }
            int t = TRAIN / topics.length;
            int v = VALIDATION / topics.length;
            train.addAll(rows.subList(0, t));
            validation.addAll(rows.subList(t, t + v));
            test.addAll(rows.subList(t + v, rows.size()));
        }
        Collections.shuffle(train, dice.random());
        Collections.shuffle(validation, dice.random());
        Collections.shuffle(test, dice.random());
        return new GeneratedTask(NAME, train, validation, test);
    }
}
