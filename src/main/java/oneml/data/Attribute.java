package oneml.data;

import java.util.List;

/** The kinds of fact the world holds about each {@link Person}, with the values each can take. */
public enum Attribute {
    CITY(Lexicon.CITIES),
    JOB(Lexicon.JOBS),
    PET(Lexicon.PETS),
    COLOUR(Lexicon.COLOURS),
    INSTRUMENT(Lexicon.INSTRUMENTS);

    private final List<String> choices;

    Attribute(List<String> values) {
        this.choices = values;
    }

    /** Every value this attribute can take, in a fixed order. */
    public List<String> choices() {
        return choices;
    }
}
