package oneml.data;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Descriptions, fixed world knowledge, opposites and everyday questions.
 *
 * <p>Besides giving the corpus variety, these sentences are where words the task prompts use
 * ("question", "answer", "positive", "topic", ":" and "?") appear in ordinary use, so the base
 * model has trained embeddings for every word a prompt contains without ever seeing a prompt.
 */
final class GeneralSentences {

    /** Facts that never change, stated the same way every time. */
    private static final List<String> WORLD = List.of(
            "the sky is blue .", "snow is white .", "grass is green .", "lemons are sour .",
            "honey is sweet .", "fire is hot .", "ice is cold .", "the sun rises in the east .",
            "the sun sets in the west .", "winter is cold .", "summer is warm .", "the night is dark .",
            "a horse is big .", "a hamster is small .", "a turtle is slow .", "a rabbit is fast .",
            "a goldfish lives in water .", "a parrot can talk .", "a canary can sing .",
            "bread is made from flour .", "cheese is made from milk .", "tomatoes are red .");

    private static final List<String> DESCRIPTIONS = List.of(
            "the {product} is {colour} .",
            "the {colour} {product} is on the {product2} .",
            "the old {product} is {thing_state} .",
            "there is {a_colour} {product} next to the {product2} .",
            "the {venue} is {place_state} today .",
            "the streets of {place} are {place_state} in {season} .",
            "{place} is a big city with many shops and cafes .");

    private static final List<String> THING_STATES = List.of(
            "big", "small", "heavy", "light", "clean", "dirty", "cheap", "expensive", "bright",
            "dark", "full", "empty", "wet", "dry", "hard", "soft", "thick", "thin");
    private static final List<String> PLACE_STATES = List.of(
            "open", "closed", "quiet", "loud", "busy", "full", "empty", "warm", "cool", "wet", "dry");

    private static final List<String> OPPOSITE_FORMS = List.of(
            "{x} is the opposite of {y} .",
            "the opposite of {x} is {y} .",
            "{x} and {y} are opposites .");

    private static final List<String> EVERYDAY = List.of(
            "the teacher asked a hard question and {who} gave the right answer .",
            "{who} did not know the answer to the question .",
            "every question has an answer .",
            "shopping list : {grocery} , {grocery2} and bread .",
            "note : the {workplace} is closed on sunday .",
            "the critic wrote a positive review of the new {show} .",
            "the critic wrote a negative review of the new {show} .",
            "the mood in the {workplace} was positive .",
            "the news from {place} was negative .",
            "the public sentiment in {place} was happy after the match .",
            "the topic of the meeting was money .",
            "the main topic of the {show} was love .",
            "{who} sent a text to a friend .",
            "where is the station ? it is near the square .",
            "what time is it ? it is late .",
            "which bus goes to {place} ? the number nine bus .",
            "does the {any_pet} like fish ? yes , it does .",
            "do you have a pen ? yes , i have two .",
            "where do you live ? i live in a small town .",
            "what do you do for work ? i work at the {workplace} .",
            "which instrument is the loudest ? the drums .",
            "what is your favourite colour ? i do not have one .",
            "rule one : be kind to animals .",
            "{who} likes to travel by train .",
            "the food at the market in {place} is cheap .",
            "many people in {place} keep pets .",
            "{who} goes to work by bus .");

    private static final List<String> SEASONS = List.of("summer", "winter");

    private final Dice dice;

    GeneralSentences(Dice dice) {
        this.dice = dice;
    }

    String worldFact() {
        return dice.any(WORLD);
    }

    String description() {
        return Template.fill(dice.any(DESCRIPTIONS), slots());
    }

    /** A definition such as "hot is the opposite of cold .", in either direction. */
    String opposite() {
        List<String> pair = dice.any(Lexicon.OPPOSITES);
        boolean flip = dice.chance(0.5);
        String x = pair.get(flip ? 1 : 0);
        String y = pair.get(flip ? 0 : 1);
        return Template.fill(dice.any(OPPOSITE_FORMS), Map.of("x", x, "y", y));
    }

    String everyday() {
        return Template.fill(dice.any(EVERYDAY), slots());
    }

    private Map<String, String> slots() {
        Map<String, String> slots = new HashMap<>();
        String product = dice.any(Lexicon.PRODUCTS);
        String product2 = dice.any(Lexicon.PRODUCTS);
        while (product2.equals(product)) {
            product2 = dice.any(Lexicon.PRODUCTS);
        }
        String grocery = dice.any(Lexicon.GROCERIES);
        String grocery2 = dice.any(Lexicon.GROCERIES);
        while (grocery2.equals(grocery) || grocery2.equals("bread")) {
            grocery2 = dice.any(Lexicon.GROCERIES);
        }
        String colour = dice.any(Lexicon.COLOURS);
        slots.put("product", product);
        slots.put("product2", product2);
        slots.put("colour", colour);
        slots.put("a_colour", Dice.a(colour));
        slots.put("thing_state", dice.any(THING_STATES));
        slots.put("place_state", dice.any(PLACE_STATES));
        slots.put("venue", dice.any(Lexicon.VENUE_NAMES) + " " + dice.any(Lexicon.VENUE_KINDS));
        slots.put("place", dice.any(Lexicon.CITIES));
        slots.put("season", dice.any(SEASONS));
        slots.put("who", dice.any(Lexicon.STRANGERS));
        slots.put("grocery", grocery);
        slots.put("grocery2", grocery2);
        slots.put("workplace", dice.any(Lexicon.WORKPLACES));
        slots.put("show", dice.any(Lexicon.SHOWS));
        slots.put("any_pet", dice.any(Lexicon.PETS));
        return slots;
    }
}
