package oneml.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Short reviews of food, shows, products and hotel stays whose wording is clearly positive or negative.
 *
 * <p>The corpus uses these without a label, so the base model learns which words go together; the
 * sentiment task pairs them with the label. A few reviews say "not bland at all", always followed
 * by a plain sentence of the same polarity, so negation is seen but never the only clue.
 */
final class ReviewWriter {

    private enum Domain { FOOD, SHOW, PRODUCT, STAY }

    private static final List<String> INTENSIFIERS = List.of("very", "really", "so", "quite", "truly");
    private static final List<String> LIKED = List.of("loved", "liked", "enjoyed", "adored");
    private static final List<String> DISLIKED = List.of("hated", "disliked", "regretted");
    private static final List<String> GOOD_ENDINGS = List.of(
            "we will come back .", "i would recommend it .", "five stars .", "worth every penny .",
            "i would go again .", "highly recommended .");
    private static final List<String> BAD_ENDINGS = List.of(
            "never again .", "i want my money back .", "one star .", "i would not recommend it .",
            "avoid it .", "what a waste of money .");

    private final Dice dice;

    ReviewWriter(Dice dice) {
        this.dice = dice;
    }

    /** One review of one to four sentences, all of the given polarity. */
    String review(boolean positive) {
        Domain domain = dice.any(List.of(Domain.values()));
        String target = target(domain);
        List<String> sentences = new ArrayList<>();
        if (dice.chance(0.1)) {
            sentences.add(target + " was not " + adjective(domain, !positive) + " at all .");
            sentences.add("it was " + adjective(domain, positive) + " .");
        } else {
            sentences.add(opening(domain, target, positive));
        }
        if (dice.chance(0.5)) {
            sentences.add(aside(domain, positive));
        }
        if (dice.chance(0.4)) {
            sentences.add(dice.any(positive ? GOOD_ENDINGS : BAD_ENDINGS));
        }
        return String.join(" ", sentences);
    }

    private String opening(Domain domain, String target, boolean positive) {
        String a = adjective(domain, positive);
        String b = otherThan(a, domain, positive);
        String verb = dice.any(positive ? LIKED : DISLIKED);
        return switch (dice.between(0, 5)) {
            case 0 -> target + " was " + a + " .";
            case 1 -> target + " was " + a + " and " + b + " .";
            case 2 -> target + " was " + dice.any(INTENSIFIERS) + " " + a + " .";
            case 3 -> "i " + verb + " " + target + " . it was " + a + " .";
            case 4 -> "we " + triedVerb(domain) + " " + target + " and it was " + a + " .";
            default -> "what " + Dice.a(a) + " " + noun(domain) + " .";
        };
    }

    /** A second sentence about another side of the same experience. */
    private String aside(Domain domain, boolean positive) {
        return switch (domain) {
            case FOOD, STAY -> "the " + dice.any(Lexicon.SERVICE) + " was "
                    + pick(Lexicon.SERVICE_GOOD, Lexicon.SERVICE_BAD, positive) + " .";
            case SHOW -> "the ending was " + pick(Lexicon.SHOW_GOOD, Lexicon.SHOW_BAD, positive) + " .";
            case PRODUCT -> "the price was " + (positive ? "fair" : "too high") + " and it looks "
                    + pick(Lexicon.GENERAL_GOOD, Lexicon.GENERAL_BAD, positive) + " .";
        };
    }

    private static String triedVerb(Domain domain) {
        return switch (domain) {
            case FOOD -> "had";
            case SHOW -> "saw";
            case PRODUCT -> "bought";
            case STAY -> "booked";
        };
    }

    private String target(Domain domain) {
        return switch (domain) {
            case FOOD -> "the " + dice.any(Lexicon.DISHES) + " at " + venue();
            case SHOW -> dice.anyOf(
                    "the " + dice.any(Lexicon.SHOWS),
                    "the new " + dice.any(Lexicon.SHOWS),
                    "the " + dice.any(Lexicon.SHOWS) + " about " + Dice.a(dice.any(Lexicon.JOBS)));
            case PRODUCT -> dice.anyOf(
                    "the " + dice.any(Lexicon.COLOURS) + " " + dice.any(Lexicon.PRODUCTS),
                    "the new " + dice.any(Lexicon.PRODUCTS),
                    "this " + dice.any(Lexicon.PRODUCTS));
            case STAY -> "the " + dice.any(Lexicon.ROOMS) + " at the " + dice.any(Lexicon.VENUE_NAMES) + " "
                    + dice.anyOf("hotel", "inn");
        };
    }

    private String venue() {
        return "the " + dice.any(Lexicon.VENUE_NAMES) + " " + dice.any(Lexicon.VENUE_KINDS);
    }

    private String noun(Domain domain) {
        return switch (domain) {
            case FOOD -> dice.any(Lexicon.DISHES);
            case SHOW -> dice.any(Lexicon.SHOWS);
            case PRODUCT -> dice.any(Lexicon.PRODUCTS);
            case STAY -> dice.any(Lexicon.ROOMS);
        };
    }

    /** A domain word most of the time, a general one ("great", "awful") otherwise. */
    private String adjective(Domain domain, boolean positive) {
        if (dice.chance(0.3)) {
            return pick(Lexicon.GENERAL_GOOD, Lexicon.GENERAL_BAD, positive);
        }
        return switch (domain) {
            case FOOD -> pick(Lexicon.FOOD_GOOD, Lexicon.FOOD_BAD, positive);
            case SHOW -> pick(Lexicon.SHOW_GOOD, Lexicon.SHOW_BAD, positive);
            case PRODUCT -> pick(Lexicon.PRODUCT_GOOD, Lexicon.PRODUCT_BAD, positive);
            case STAY -> pick(Lexicon.ROOM_GOOD, Lexicon.ROOM_BAD, positive);
        };
    }

    private String otherThan(String taken, Domain domain, boolean positive) {
        String other = adjective(domain, positive);
        while (other.equals(taken)) {
            other = adjective(domain, positive);
        }
        return other;
    }

    private String pick(List<String> good, List<String> bad, boolean positive) {
        return dice.any(positive ? good : bad);
    }
}
