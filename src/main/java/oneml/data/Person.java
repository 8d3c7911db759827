package oneml.data;

/**
 * A named person of the synthetic world and the facts the pretraining corpus states about them.
 * Every document that mentions one of these facts states the same value, so a model can learn it.
 */
public record Person(String name, String city, String job, String pet, String colour, String instrument) {

    /** The value of one attribute, e.g. {@code get(Attribute.CITY)} is "oslo". */
    public String get(Attribute attribute) {
        return switch (attribute) {
            case CITY -> city;
            case JOB -> job;
            case PET -> pet;
            case COLOUR -> colour;
            case INSTRUMENT -> instrument;
        };
    }
}
