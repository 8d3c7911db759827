package oneml.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Review sentiment as generation of one label word:
 * "review : the soup at the harbor cafe was bland . sentiment :" → "negative".
 *
 * <p>Every review is distinct, so no test review is a copy of a training review; each split has
 * exactly as many positive as negative rows.
 */
final class SentimentTask {

    static final String NAME = "sentiment";
    static final int TRAIN = 1600;
    static final int VALIDATION = 200;
    static final int TEST = 200;

    private SentimentTask() {}

    static String prompt(String review) {
        return "review : " + review + " sentiment :";
    }

    static GeneratedTask generate(SyntheticWorld world) {
        Dice dice = new Dice(Dice.derive(world.seed(), SyntheticWorld.SENTIMENT_STREAM));
        ReviewWriter writer = new ReviewWriter(dice);
        Set<String> seen = new LinkedHashSet<>();
        List<Example> positive = distinct(writer, true, seen);
        List<Example> negative = distinct(writer, false, seen);
        int trainHalf = TRAIN / 2;
        int validationHalf = VALIDATION / 2;
        List<Example> train = merge(positive.subList(0, trainHalf), negative.subList(0, trainHalf), dice);
        List<Example> validation = merge(
                positive.subList(trainHalf, trainHalf + validationHalf),
                negative.subList(trainHalf, trainHalf + validationHalf), dice);
        List<Example> test = merge(
                positive.subList(trainHalf + validationHalf, positive.size()),
                negative.subList(trainHalf + validationHalf, negative.size()), dice);
        return new GeneratedTask(NAME, train, validation, test);
    }

    private static List<Example> distinct(ReviewWriter writer, boolean positive, Set<String> seen) {
        int needed = (TRAIN + VALIDATION + TEST) / 2;
        List<Example> out = new ArrayList<>(needed);
        while (out.size() < needed) {
            String review = writer.review(positive);
            if (seen.add(review)) {
                out.add(new Example(prompt(review), positive ? "positive" : "negative"));
            }
        }
        return out;
    }

    private static List<Example> merge(List<Example> a, List<Example> b, Dice dice) {
        List<Example> all = new ArrayList<>(a);
        all.addAll(b);
        Collections.shuffle(all, dice.random());
        return all;
    }
}
